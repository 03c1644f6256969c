// The CPU forward pass on tiny random models of each architecture variant: logits against a
// dense float64 reference, and the paged path's invariance (page size, page order, prefill
// chunking, batching, copy_page).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "tests/engine/backend/tiny_model.h"

using namespace stemma;
using namespace stemma::cpu;

namespace {

std::vector<ModelConfig> variants() {
  std::vector<ModelConfig> out;
  out.push_back(testing::tiny_config(Architecture::kLlama));
  ModelConfig inter = testing::tiny_config(Architecture::kLlama);
  inter.rope_interleaved = true;
  out.push_back(inter);
  ModelConfig l3 = testing::tiny_config(Architecture::kLlama);
  l3.rope_theta = 500000.0f;
  l3.rope_scaling.type = RopeScaling::Type::kLlama3;
  l3.rope_scaling.factor = 8.0f;
  l3.rope_scaling.original_max_position = 64;  // small, so all three frequency bands occur
  out.push_back(l3);
  ModelConfig lin = testing::tiny_config(Architecture::kLlama);
  lin.rope_scaling.type = RopeScaling::Type::kLinear;
  lin.rope_scaling.factor = 2.0f;
  out.push_back(lin);
  out.push_back(testing::tiny_config(Architecture::kQwen2));
  out.push_back(testing::tiny_config(Architecture::kQwen3));
  return out;
}

std::unique_ptr<CpuExecutor> make_executor(std::shared_ptr<LoadedModel> m, int64_t page_size,
                                           int threads, int64_t num_pages = 64) {
  KvCacheShape kv;
  kv.page_size = page_size;
  kv.num_pages = num_pages;
  auto ex = CpuExecutor::create(std::move(m), kv, threads);
  REQUIRE(ex.ok());
  return std::move(ex).value();
}

std::vector<int32_t> some_tokens(int n, int vocab, int seed) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = (i * 17 + seed * 5 + 3) % vocab;
  return t;
}

// Prompt logits for all positions, running the prompt in `chunk`-token steps over `pages`.
std::vector<float> run_chunks(CpuExecutor& ex, const std::vector<int32_t>& tokens, size_t chunk,
                              const std::vector<int32_t>& pages) {
  std::vector<float> logits;
  for (size_t s = 0; s < tokens.size(); s += chunk) {
    SequenceStep step;
    step.tokens = std::span<const int32_t>(tokens).subspan(s, std::min(chunk, tokens.size() - s));
    step.past_len = static_cast<int32_t>(s);
    step.pages = pages;
    step.all_logits = true;
    REQUIRE(ex.forward(std::span<const SequenceStep>(&step, 1), logits).ok());
  }
  return logits;
}

std::vector<int32_t> iota_pages(int n) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  return p;
}

}  // namespace

TEST_CASE("logits match a dense float64 reference for every architecture variant") {
  for (const ModelConfig& c : variants()) {
    auto model = testing::tiny_model(c, 42);
    const std::vector<int32_t> tokens = some_tokens(40, static_cast<int>(c.vocab_size), 1);
    const std::vector<double> ref = testing::reference_logits(*model, tokens);
    auto ex = make_executor(model, 16, 2);
    const std::vector<float> got = run_chunks(*ex, tokens, tokens.size(), iota_pages(4));
    REQUIRE(got.size() == ref.size());
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    double max_err = 0;
    for (size_t i = 0; i < ref.size(); ++i) max_err = std::max(max_err, std::fabs(got[i] - ref[i]));
    INFO("arch " << c.arch_name << " interleaved " << c.rope_interleaved << " scaling "
                 << static_cast<int>(c.rope_scaling.type) << " max_err " << max_err);
    CHECK(max_err < 1e-4 * (*hi - *lo));
  }
}

TEST_CASE("paged attention gives identical logits for any page size, page order and chunking") {
  for (const ModelConfig& c :
       {testing::tiny_config(Architecture::kLlama), testing::tiny_config(Architecture::kQwen2),
        testing::tiny_config(Architecture::kQwen3)}) {
    auto model = testing::tiny_model(c, 7);
    const std::vector<int32_t> tokens = some_tokens(37, static_cast<int>(c.vocab_size), 2);
    auto base_ex = make_executor(model, 16, 1);
    const std::vector<float> base = run_chunks(*base_ex, tokens, tokens.size(), iota_pages(3));
    for (int64_t page_size : {1, 5, 64}) {
      for (int threads : {1, 2}) {
        auto ex = make_executor(model, page_size, threads, 64);
        const int pages_needed = static_cast<int>((37 + page_size - 1) / page_size);
        // Pages out of order and not starting at 0.
        std::vector<int32_t> pages(static_cast<size_t>(pages_needed));
        for (int i = 0; i < pages_needed; ++i) pages[static_cast<size_t>(i)] = 63 - 2 * i % 64;
        std::sort(pages.begin(), pages.end());
        pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
        if (static_cast<int>(pages.size()) < pages_needed) pages = iota_pages(pages_needed);
        std::reverse(pages.begin(), pages.end());
        for (size_t chunk : {size_t{37}, size_t{10}, size_t{1}}) {
          const std::vector<float> got = run_chunks(*ex, tokens, chunk, pages);
          INFO("page_size " << page_size << " threads " << threads << " chunk " << chunk);
          REQUIRE(got.size() == base.size());
          double max_err = 0;
          for (size_t i = 0; i < got.size(); ++i)
            max_err = std::max(max_err, static_cast<double>(std::fabs(got[i] - base[i])));
          // Chunking changes how many x rows share a kernel call; float sums stay within rounding.
          CHECK(max_err < 1e-4);
        }
      }
    }
  }
}

TEST_CASE("a mixed batch (prefill chunk + decode tokens) equals the sequences run alone") {
  const ModelConfig c = testing::tiny_config(Architecture::kQwen2);
  auto model = testing::tiny_model(c, 3);
  const std::vector<int32_t> a = some_tokens(12, static_cast<int>(c.vocab_size), 3);
  const std::vector<int32_t> b = some_tokens(9, static_cast<int>(c.vocab_size), 4);
  auto solo = make_executor(model, 4, 2);
  const std::vector<float> la = run_chunks(*solo, a, a.size(), {0, 1, 2});
  const std::vector<float> lb = run_chunks(*solo, b, b.size(), {3, 4, 5});
  auto ex = make_executor(model, 4, 2);
  // Sequence a: its first 11 tokens cached, decodes the 12th; sequence b: one prefill chunk.
  std::vector<float> sink;
  SequenceStep pre;
  pre.tokens = std::span<const int32_t>(a).first(11);
  std::vector<int32_t> pages_a = {7, 8, 9}, pages_b = {10, 11, 12};
  pre.pages = pages_a;
  REQUIRE(ex->forward(std::span<const SequenceStep>(&pre, 1), sink).ok());
  SequenceStep steps[2];
  steps[0].tokens = std::span<const int32_t>(a).subspan(11, 1);
  steps[0].past_len = 11;
  steps[0].pages = pages_a;
  steps[1].tokens = b;
  steps[1].pages = pages_b;
  steps[1].all_logits = true;
  std::vector<float> logits;
  REQUIRE(ex->forward(steps, logits).ok());
  const size_t v = static_cast<size_t>(c.vocab_size);
  REQUIRE(logits.size() == v * (1 + b.size()));
  for (size_t i = 0; i < v; ++i) CHECK(logits[i] == doctest::Approx(la[11 * v + i]).epsilon(1e-5));
  for (size_t i = 0; i < v * b.size(); ++i)
    CHECK(logits[v + i] == doctest::Approx(lb[i]).epsilon(1e-5));
}

TEST_CASE("copy_page forks a sequence: the copy continues exactly like the original") {
  const ModelConfig c = testing::tiny_config(Architecture::kLlama);
  auto model = testing::tiny_model(c, 5);
  auto ex = make_executor(model, 8, 1);
  const std::vector<int32_t> prompt = some_tokens(11, static_cast<int>(c.vocab_size), 6);
  const std::vector<int32_t> next = {5};
  std::vector<int32_t> pages_a = {0, 1}, pages_b = {0, 2};  // b shares page 0, copies page 1
  std::vector<float> sink;
  SequenceStep s;
  s.tokens = prompt;
  s.pages = pages_a;
  REQUIRE(ex->forward(std::span<const SequenceStep>(&s, 1), sink).ok());
  REQUIRE(ex->copy_page(1, 2, 3).ok());
  std::vector<float> la, lb;
  s.tokens = next;
  s.past_len = 11;
  REQUIRE(ex->forward(std::span<const SequenceStep>(&s, 1), la).ok());
  s.pages = pages_b;
  REQUIRE(ex->forward(std::span<const SequenceStep>(&s, 1), lb).ok());
  CHECK(la == lb);
  CHECK_FALSE(ex->copy_page(1, 64, 3).ok());
  CHECK_FALSE(ex->copy_page(1, 2, 9).ok());
}

TEST_CASE("forward refuses bad input with a named reason") {
  const ModelConfig c = testing::tiny_config(Architecture::kLlama);
  auto ex = make_executor(testing::tiny_model(c, 1), 4, 1, 4);
  std::vector<float> logits;
  std::vector<int32_t> tokens = {1, 2, 999};
  std::vector<int32_t> pages = {0};
  SequenceStep s;
  s.tokens = tokens;
  s.pages = pages;
  Status st = ex->forward(std::span<const SequenceStep>(&s, 1), logits);
  CHECK(st.code() == StatusCode::kOutOfRange);
  CHECK(st.message().find("999") != std::string::npos);
  tokens = {1, 2, 3, 4, 5};  // 5 positions, one page of 4
  s.tokens = tokens;
  st = ex->forward(std::span<const SequenceStep>(&s, 1), logits);
  CHECK(st.code() == StatusCode::kOutOfRange);
  pages = {0, 7};
  s.pages = pages;
  st = ex->forward(std::span<const SequenceStep>(&s, 1), logits);
  CHECK(st.message().find("page id 7") != std::string::npos);
  CHECK(logits.empty());
}

TEST_CASE("greedy generation is the same token by token and with chunked prefill") {
  const ModelConfig c = testing::tiny_config(Architecture::kQwen3);
  auto model = testing::tiny_model(c, 11);
  auto ex = make_executor(model, 16, 2);
  const std::vector<int32_t> prompt = some_tokens(9, static_cast<int>(c.vocab_size), 8);
  auto g1 = greedy_generate(*ex, prompt, 12);
  auto g2 = greedy_generate(*ex, prompt, 12, 4);
  REQUIRE(g1.ok());
  REQUIRE(g2.ok());
  CHECK(g1->tokens == g2->tokens);
  // The first generated token is the argmax of the reference's last-position logits.
  const std::vector<double> ref = testing::reference_logits(*model, prompt);
  const size_t v = static_cast<size_t>(c.vocab_size);
  std::vector<float> last(ref.end() - static_cast<ptrdiff_t>(v), ref.end());
  CHECK(g1->tokens[0] == argmax(last));
}

TEST_CASE("executor limits: thread counts and KV pools past the machine are clean errors") {
  // Issue 15 items 8 and 16: threads = 10000 and huge page sizes / page counts were a hang or
  // an INTERNAL bad_alloc.
  const ModelConfig c = testing::tiny_config(Architecture::kLlama);
  KvCacheShape kv;
  kv.page_size = 16;
  kv.num_pages = 4;
  auto many = CpuExecutor::create(testing::tiny_model(c, 1), kv, 10000);
  REQUIRE_FALSE(many.ok());
  CHECK(many.status().code() == StatusCode::kInvalidArgument);
  CHECK(many.status().message().find("10000") != std::string::npos);

  kv.num_pages = int64_t{1} << 40;  // page ids are 32-bit
  auto ids = CpuExecutor::create(testing::tiny_model(c, 1), kv, 1);
  REQUIRE_FALSE(ids.ok());
  CHECK(ids.status().code() == StatusCode::kResourceExhausted);

  kv.num_pages = 1 << 30;  // 2 x 2 layers x 2 heads x 16 dims x 16 slots x 4 B x 2^30 = 8 TiB
  auto big = CpuExecutor::create(testing::tiny_model(c, 1), kv, 1);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == StatusCode::kResourceExhausted);
  CHECK(big.status().message().find("this machine has") != std::string::npos);

  kv.num_pages = 2;
  kv.page_size = int64_t{1} << 62;  // overflows the byte count
  auto overflow = CpuExecutor::create(testing::tiny_model(c, 1), kv, 1);
  REQUIRE_FALSE(overflow.ok());
  CHECK(overflow.status().code() == StatusCode::kResourceExhausted);
}
