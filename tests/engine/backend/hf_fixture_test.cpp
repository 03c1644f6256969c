// The CPU forward pass against HF transformers on the tiny reference models of
// tests/fixtures/models (llama, llama3 rope scaling, mistral, qwen2 bias + tied, qwen3 q/k norm),
// from F32 and BF16 safetensors: logits of every position and the 32-token greedy continuation.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/model/model_loader.h"

using namespace stemma;
using namespace stemma::cpu;

namespace {

const std::string kModels = std::string(STEMMA_FIXTURES_DIR) + "/models/";
const char* kNames[] = {"llama", "llama3", "mistral", "qwen2", "qwen3"};

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

std::unique_ptr<CpuExecutor> executor_for(const std::string& dir, int64_t page_size, int threads) {
  auto loaded = load_model(dir);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
  KvCacheShape kv;
  kv.page_size = page_size;
  kv.num_pages = 256 / page_size;
  auto ex = CpuExecutor::create(model, kv, threads);
  REQUIRE_MESSAGE(ex.ok(), ex.status().to_string());
  return std::move(ex).value();
}

}  // namespace

TEST_CASE("logits and greedy continuations match HF transformers (F32 and BF16 safetensors)") {
  for (const std::string name : kNames) {
    const nlohmann::json ref = read_json(kModels + name + "/reference.json");
    for (const std::string variant : {"f32", "bf16"}) {
      const nlohmann::json& v = ref["variants"][variant];
      const std::string dir = kModels + name + "/" + v["model_dir"].get<std::string>();
      const std::vector<float> hf =
          read_floats(kModels + name + "/" + v["logits_file"].get<std::string>());
      const int64_t vocab = ref["vocab_size"].get<int64_t>();
      // Page size 16 with 2 threads, and page size 5 on one thread: the paged path must not matter.
      for (auto [page_size, threads] :
           {std::pair<int64_t, int>{16, 2}, std::pair<int64_t, int>{5, 1}}) {
        auto ex = executor_for(dir, page_size, threads);
        for (const nlohmann::json& seq : v["sequences"]) {
          const std::vector<int32_t> prompt = seq["prompt"].get<std::vector<int32_t>>();
          const std::vector<int32_t> greedy = seq["greedy"].get<std::vector<int32_t>>();
          std::vector<int32_t> tokens = prompt;
          tokens.insert(tokens.end(), greedy.begin(), greedy.end());
          const int64_t rows = seq["logits_rows"].get<int64_t>();
          const size_t off = seq["logits_offset_floats"].get<size_t>();
          REQUIRE(static_cast<int64_t>(tokens.size()) - 1 == rows);

          // Every position's logits in one prefill step.
          auto out = greedy_generate(
              *ex, std::span<const int32_t>(tokens).first(static_cast<size_t>(rows)), 0, 0,
              /*keep_prompt_logits=*/true);
          REQUIRE(out.ok());
          REQUIRE(out->prompt_logits.size() == static_cast<size_t>(rows * vocab));
          const float* expect = hf.data() + off;
          const auto [lo, hi] = std::minmax_element(expect, expect + rows * vocab);
          double max_err = 0;
          for (int64_t i = 0; i < rows * vocab; ++i) {
            max_err = std::max(
                max_err, static_cast<double>(
                             std::fabs(out->prompt_logits[static_cast<size_t>(i)] - expect[i])));
          }
          INFO(name << " " << variant << " prompt length " << prompt.size() << " page size "
                    << page_size << ": max |logit error| " << max_err << ", logit range "
                    << (*hi - *lo));
          CHECK(max_err < 1e-3 * (*hi - *lo));
          CHECK(max_err < 2e-4);  // what float32 all the way should reach (HF's own float32: ~1e-5)

          // Greedy: chunked prefill of the prompt, then one decode step per token.
          auto gen = greedy_generate(*ex, prompt, static_cast<int>(greedy.size()), 3);
          REQUIRE(gen.ok());
          CHECK(gen->tokens == greedy);
        }
      }
    }
  }
}
