// The CPU executor's step interrupt (ModelExecutor::set_interrupt, issue 15 item 11): a raised
// flag makes forward() return Cancelled, and a forward abandoned anywhere leaves the executor
// able to run the same step again with exactly the logits of an executor never interrupted.
#include <doctest/doctest.h>

#include <atomic>
#include <numeric>
#include <thread>

#include "engine/backend/cpu/cpu_executor.h"
#include "tests/engine/backend/tiny_model.h"

using namespace stemma;
using namespace stemma::cpu;

namespace {

std::unique_ptr<CpuExecutor> executor_for(std::shared_ptr<LoadedModel> m) {
  KvCacheShape kv;
  kv.page_size = 8;
  kv.num_pages = 32;
  auto ex = CpuExecutor::create(std::move(m), kv, 2);
  REQUIRE(ex.ok());
  return std::move(ex).value();
}

struct Prompt {
  std::vector<int32_t> tokens;
  std::vector<int32_t> pages;
  SequenceStep chunk(size_t from, size_t n) const {
    SequenceStep s;
    s.tokens = std::span<const int32_t>(tokens).subspan(from, n);
    s.past_len = static_cast<int32_t>(from);
    s.pages = pages;
    s.all_logits = true;
    return s;
  }
};

Prompt make_prompt(int64_t vocab) {
  Prompt p;
  for (int i = 0; i < 200; ++i) p.tokens.push_back(static_cast<int32_t>((i * 13 + 7) % vocab));
  p.pages.resize(32);
  std::iota(p.pages.begin(), p.pages.end(), 0);
  return p;
}

}  // namespace

TEST_CASE("a raised interrupt makes the CPU forward return Cancelled, and it runs again") {
  auto model = testing::tiny_model(testing::tiny_config(Architecture::kLlama), 9);
  auto ex = executor_for(model);
  auto ref = executor_for(model);
  std::atomic<bool> flag{false};
  ex->set_interrupt(&flag);
  const Prompt p = make_prompt(model->config.vocab_size);
  const SequenceStep first = p.chunk(0, 40), second = p.chunk(40, 160);
  std::vector<float> a, b;
  REQUIRE(ex->forward(std::span<const SequenceStep>(&first, 1), a).ok());
  REQUIRE(ref->forward(std::span<const SequenceStep>(&first, 1), b).ok());
  CHECK(a == b);

  flag = true;
  std::vector<float> cut;
  Status s = ex->forward(std::span<const SequenceStep>(&second, 1), cut);
  CHECK(s.code() == StatusCode::kCancelled);
  CHECK(cut.empty());

  // Raised from another thread while the step runs, at whatever point it lands: Cancelled
  // (or OK, when the step ended first), and the step run again gives the reference logits.
  std::vector<float> want;
  REQUIRE(ref->forward(std::span<const SequenceStep>(&second, 1), want).ok());
  for (int round = 0; round < 8; ++round) {
    flag = false;
    std::vector<float> got;
    std::thread raiser([&] { flag = true; });
    s = ex->forward(std::span<const SequenceStep>(&second, 1), got);
    raiser.join();
    CHECK((s.ok() || s.code() == StatusCode::kCancelled));
    if (s.ok()) CHECK(got == want);
    if (!s.ok()) CHECK(got.empty());
    flag = false;
    got.clear();
    REQUIRE(ex->forward(std::span<const SequenceStep>(&second, 1), got).ok());
    CHECK(got == want);
  }
  ex->set_interrupt(nullptr);
}
