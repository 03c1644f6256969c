// Engine::cancel during a long prefill (issue 15 item 11): the step in flight is abandoned, the
// cancel is reported without waiting for it, the other requests of that step run it again with
// unchanged outputs, and no page leaks. The long step is simulated: the executor blocks in its
// first big prefill until the interrupt is raised (the CPU executor's check interval is
// measured by bench/engine/cancel_latency.cpp), so nothing here depends on timing.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/api/engine.h"
#include "engine/engine_internal.h"
#include "mock_executor.h"

namespace stemma {
namespace {

using stemma::testing::MockExecutor;

constexpr int64_t kVocab = 97;

// The mock, except that the first forward with a chunk of at least `big` tokens runs "for a
// long time": until the interrupt is raised (or 60 s pass, which fails the tests).
class LongPrefillExecutor : public ModelExecutor {
 public:
  LongPrefillExecutor(int32_t page_size, int32_t num_pages, size_t big)
      : mock_(kVocab, page_size, num_pages), big_(big) {}

  const ModelConfig& config() const override { return mock_.config(); }
  const KvCacheShape& kv_shape() const override { return mock_.kv_shape(); }
  using ModelExecutor::forward;
  Status forward(std::span<const SequenceStep> batch, std::vector<float>& logits) override {
    mock_.set_interrupt(interrupt_flag());
    bool long_step = false;
    for (const SequenceStep& s : batch) long_step = long_step || s.tokens.size() >= big_;
    if (long_step && !blocked_once_) {
      blocked_once_ = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        started_ = true;
      }
      cv_.notify_all();
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!interrupted() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      ended_by_interrupt_ = interrupted();
    }
    return mock_.forward(batch, logits);
  }
  Status copy_page(int32_t src, int32_t dst, int32_t num_slots) override {
    return mock_.copy_page(src, dst, num_slots);
  }

  // Blocks until the long step is running.
  void wait_started() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return started_; });
  }
  bool ended_by_interrupt() const { return ended_by_interrupt_; }
  const MockExecutor& mock() const { return mock_; }

 private:
  MockExecutor mock_;
  size_t big_;
  bool blocked_once_ = false;
  bool ended_by_interrupt_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
};

std::vector<int32_t> prompt_of(int32_t n, int32_t start) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < n; ++i) t.push_back((start + i * 3) % static_cast<int32_t>(kVocab));
  return t;
}

GenerationOptions greedy(int32_t max_tokens) {
  GenerationOptions g;
  g.temperature = 0.0f;
  g.max_tokens = max_tokens;
  return g;
}

std::unique_ptr<Engine> open_long(const std::shared_ptr<LongPrefillExecutor>& ex) {
  EngineOptions o;
  o.prefill_chunk = 2048;
  o.max_batch_tokens = 4096;
  auto e = internal::open_engine(o, {.executor = ex});
  REQUIRE(e.ok());
  return std::move(e).value();
}

TEST_CASE("Engine::cancel during a long prefill abandons the step; the others are unaffected") {
  auto ex = std::make_shared<LongPrefillExecutor>(16, 512, 1000);
  auto engine = open_long(ex);
  // A short request and a 2,000-token one start in the same step.
  const auto short_prompt = prompt_of(9, 5);
  auto b = engine->submit(short_prompt, greedy(20));
  auto a = engine->submit(prompt_of(2000, 1), greedy(4));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  ex->wait_started();
  REQUIRE(engine->cancel(*a).ok());
  auto out_a = engine->wait(*a);
  REQUIRE(out_a.ok());
  CHECK(out_a->finish == FinishReason::kCancelled);
  CHECK(out_a->tokens.empty());
  CHECK(ex->ended_by_interrupt());
  auto out_b = engine->wait(*b);
  REQUIRE(out_b.ok());
  CHECK(out_b->finish == FinishReason::kLength);
  CHECK(out_b->tokens == MockExecutor::reference_greedy(short_prompt, kVocab, 20));
  engine->wait_idle();
  const EngineStats st = engine->stats();
  CHECK(st.interrupted_steps == 1);
  CHECK(ex->mock().interrupted_forwards() == 1);
  CHECK(st.pages_in_use == st.cached_pages);  // idle: only the prefix cache holds pages
  // The cancelled prompt's positions were never computed: none of it is cached.
  CHECK(st.prefill_tokens == static_cast<int64_t>(short_prompt.size()));
}

TEST_CASE("a cancel of a request outside the step in flight does not interrupt it") {
  auto ex = std::make_shared<LongPrefillExecutor>(16, 512, 1000);
  auto engine = open_long(ex);
  auto a = engine->submit(prompt_of(1500, 2), greedy(2));
  REQUIRE(a.ok());
  ex->wait_started();
  const std::atomic<bool>* flag = ex->interrupt_flag();
  REQUIRE(flag != nullptr);
  // Submitted while the step runs: not in it, so its cancel waits for the step (cancel()
  // raises the flag before it returns when it raises it at all).
  auto c = engine->submit(prompt_of(20, 7), greedy(2));
  REQUIRE(c.ok());
  REQUIRE(engine->cancel(*c).ok());
  CHECK_FALSE(flag->load());
  REQUIRE(engine->cancel(*a).ok());
  CHECK(flag->load());
  auto out_a = engine->wait(*a);
  REQUIRE(out_a.ok());
  CHECK(out_a->finish == FinishReason::kCancelled);
  auto out_c = engine->wait(*c);
  REQUIRE(out_c.ok());
  CHECK(out_c->finish == FinishReason::kCancelled);
  CHECK(ex->ended_by_interrupt());
}

TEST_CASE("destroying the engine during a long prefill abandons the step") {
  auto ex = std::make_shared<LongPrefillExecutor>(16, 512, 1000);
  auto engine = open_long(ex);
  auto a = engine->submit(prompt_of(2000, 3), greedy(2));
  REQUIRE(a.ok());
  ex->wait_started();
  engine.reset();  // returns once the step is abandoned, not after it
  CHECK(ex->ended_by_interrupt());
  CHECK(ex->interrupt_flag() == nullptr);  // the engine's flag is not left behind
}

}  // namespace
}  // namespace stemma
