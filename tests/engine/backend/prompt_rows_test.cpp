// prompt_logits_rows: the chosen positions' rows, in the order asked, equal the rows of one
// forward over the whole prompt; bad positions and a small pool are refused with a reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/backend/cpu/prompt_rows.h"
#include "tests/engine/backend/tiny_model.h"

using namespace stemma;
using namespace stemma::cpu;

namespace {

std::unique_ptr<CpuExecutor> executor(std::shared_ptr<LoadedModel> m, int64_t num_pages) {
  KvCacheShape kv;
  kv.page_size = 16;
  kv.num_pages = num_pages;
  auto ex = CpuExecutor::create(std::move(m), kv, 2);
  REQUIRE(ex.ok());
  return std::move(ex).value();
}

}  // namespace

TEST_CASE("prompt_logits_rows gives the whole-prompt rows at the chosen positions") {
  for (Architecture arch : {Architecture::kLlama, Architecture::kQwen2, Architecture::kQwen3}) {
    const ModelConfig c = testing::tiny_config(arch);
    auto model = testing::tiny_model(c, 5);
    std::vector<int32_t> prompt(70);
    for (size_t i = 0; i < prompt.size(); ++i)
      prompt[i] = static_cast<int32_t>((i * 29 + 11) % static_cast<size_t>(c.vocab_size));
    auto full_ex = executor(model, 8);
    auto full = greedy_generate(*full_ex, prompt, 0, 0, /*keep_prompt_logits=*/true);
    REQUIRE(full.ok());
    const size_t v = static_cast<size_t>(c.vocab_size);
    REQUIRE(full->prompt_logits.size() == prompt.size() * v);

    // Out of order, repeated, the first and a page boundary; the last row (69) is not asked,
    // so the pool needs only the pages up to position 64.
    const std::vector<int64_t> positions = {64, 0, 15, 16, 1, 64, 33};
    auto ex = executor(model, 5);
    auto rows = prompt_logits_rows(*ex, prompt, positions);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == positions.size() * v);
    float max_abs = 0.0f;
    for (float x : full->prompt_logits) max_abs = std::max(max_abs, std::fabs(x));
    for (size_t r = 0; r < positions.size(); ++r) {
      const float* want = full->prompt_logits.data() + static_cast<size_t>(positions[r]) * v;
      const float* got = rows->data() + r * v;
      float max_diff = 0.0f;
      for (size_t i = 0; i < v; ++i) max_diff = std::max(max_diff, std::fabs(got[i] - want[i]));
      INFO("arch " << c.arch_name << " position " << positions[r] << " max_diff " << max_diff);
      // Each token's row is computed on its own by the kernels: chunking moves nothing but
      // float rounding at most.
      CHECK(max_diff <= 1e-6f * max_abs);
      CHECK(argmax(std::span<const float>(got, v)) == argmax(std::span<const float>(want, v)));
    }
  }
}

TEST_CASE("prompt_logits_rows refuses positions outside the prompt and a pool too small") {
  const ModelConfig c = testing::tiny_config(Architecture::kLlama);
  auto model = testing::tiny_model(c, 6);
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  auto ex = executor(model, 1);
  const std::vector<int64_t> past_end = {2, 5};
  auto r = prompt_logits_rows(*ex, prompt, past_end);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kOutOfRange);
  CHECK(r.status().message().find("position 5") != std::string::npos);
  const std::vector<int64_t> negative = {-1};
  CHECK(prompt_logits_rows(*ex, prompt, negative).status().code() == StatusCode::kOutOfRange);
  CHECK_FALSE(prompt_logits_rows(*ex, prompt, std::vector<int64_t>{}).ok());

  std::vector<int32_t> longer(40, 3);
  auto small = prompt_logits_rows(*ex, longer, std::vector<int64_t>{39});
  REQUIRE_FALSE(small.ok());
  CHECK(small.status().code() == StatusCode::kResourceExhausted);
  // Positions within the one page still work with that pool.
  CHECK(prompt_logits_rows(*ex, longer, std::vector<int64_t>{15}).ok());
}
