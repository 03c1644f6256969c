// The scheduler with a StepInterrupt (issue 15 item 11): a cancel that abandons the step in
// flight finishes the cancelled request and leaves every other request of that step exactly as
// an uninterrupted run would (tokens, cached pages, page counts), also when the step held
// radix-shared pages and a fresh copy-on-write page.
#include <doctest/doctest.h>

#include <atomic>
#include <map>

#include "engine/sched/scheduler.h"
#include "mock_executor.h"

namespace stemma::sched {
namespace {

using stemma::testing::MockExecutor;

constexpr int64_t kVocab = 97;
constexpr int32_t kPage = 4;

std::vector<int32_t> tokens_from(int32_t n, int32_t start) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < n; ++i) t.push_back((start + i * 5) % static_cast<int32_t>(kVocab));
  return t;
}

SamplingOptions sampled(int32_t max_tokens, float temperature, uint64_t seed) {
  SamplingOptions o;
  o.temperature = temperature;
  o.seed = seed;
  o.max_tokens = max_tokens;
  return o;
}

struct RunOutcome {
  std::map<RequestId, std::vector<int32_t>> tokens;
  std::map<RequestId, FinishReason> finish;
  int64_t interrupted_forwards = 0;
  EngineStats stats;
};

// As the Engine's worker does: cancels taken from the interrupt are applied and reported
// before the next step.
void collect(const std::vector<StepEvent>& events, RunOutcome& out) {
  for (const auto& e : events) {
    auto& t = out.tokens[e.id];
    t.insert(t.end(), e.tokens.begin(), e.tokens.end());
    if (e.finish != FinishReason::kNone) out.finish[e.id] = e.finish;
  }
}

// P runs first (its pages, a partial tail page too, go into the tree); then A (a long prompt,
// prefilled in chunks), B (sampled) and C (P's prompt with a new ending: two radix-shared
// pages and a copy-on-write page) run together. With `cancel_a`, A is cancelled inside the
// forward of the step that admits C, while A is mid-prefill.
RunOutcome run(bool cancel_a) {
  MockExecutor ex(kVocab, kPage, 96);
  StepInterrupt interrupt;
  SchedulerOptions opt;
  opt.prefill_chunk = 16;
  opt.max_batch_tokens = 40;
  opt.interrupt = &interrupt;
  Scheduler s(ex, opt);
  RunOutcome out;
  std::vector<StepEvent> events;
  auto drain_all = [&] {
    for (int i = 0; i < 1000 && !s.idle(); ++i) {
      events.clear();
      s.step(events);
      REQUIRE(s.check_invariants().ok());
      collect(events, out);
      if (interrupt.raised()) FAIL("the flag stays raised after the step");
    }
    REQUIRE(s.idle());
  };
  const auto p = tokens_from(10, 3);
  REQUIRE(s.add(1, p, sampled(4, 0.0f, 0)).ok());
  drain_all();
  REQUIRE(s.add(2, tokens_from(60, 11), sampled(5, 0.0f, 0)).ok());   // A
  REQUIRE(s.add(3, tokens_from(7, 40), sampled(12, 0.9f, 77)).ok());  // B
  events.clear();
  s.step(events);  // A's first chunk, B's prompt
  collect(events, out);
  auto c = p;
  c.insert(c.end(), {60, 61, 62, 63, 64});
  REQUIRE(s.add(4, c, sampled(6, 0.0f, 0)).ok());  // C
  const int32_t cached_before = s.stats().cached_pages;
  bool c_in_step = false;
  if (cancel_a) {
    ex.on_forward([&](std::span<const SequenceStep> batch) {
      if (batch.size() == 3 && !c_in_step) {
        c_in_step = true;
        interrupt.cancel(2);  // another thread's Engine::cancel, while the step runs
      }
    });
  }
  events.clear();
  s.step(events);
  collect(events, out);
  REQUIRE(s.check_invariants().ok());
  if (cancel_a) {
    CHECK(c_in_step);
    CHECK(events.empty());  // nothing of the abandoned step is reported
    CHECK(s.stats().interrupted_steps == 1);
    CHECK(s.stats().cached_pages == cached_before);  // nothing of it entered the tree
    ex.on_forward({});
    interrupt.take_cancels();
    CHECK(s.cancel(2));
    events.clear();
    s.finish_cancelled(events);
    REQUIRE(events.size() == 1);
    CHECK(events[0].id == 2);
    CHECK(events[0].finish == FinishReason::kCancelled);
    collect(events, out);
    REQUIRE(s.check_invariants().ok());
  }
  drain_all();
  out.interrupted_forwards = ex.interrupted_forwards();
  out.stats = s.stats();
  // Idle: every page in use is a cached one; none is left once the cache is dropped.
  CHECK(out.stats.pages_in_use == out.stats.cached_pages);
  s.clear_cache();
  CHECK(s.stats().pages_in_use == 0);
  return out;
}

TEST_CASE("a step interrupted by a cancel leaves the other requests' outputs unchanged") {
  const RunOutcome plain = run(false);
  const RunOutcome cut = run(true);
  CHECK(plain.interrupted_forwards == 0);
  CHECK(cut.interrupted_forwards == 1);
  CHECK(cut.stats.interrupted_steps == 1);
  CHECK(cut.finish.at(2) == FinishReason::kCancelled);
  CHECK(cut.tokens.at(2).empty());  // cancelled during its prefill
  for (RequestId id : {3, 4}) {
    CHECK(cut.tokens.at(id) == plain.tokens.at(id));
    CHECK(cut.finish.at(id) == plain.finish.at(id));
  }
  CHECK(plain.tokens.at(3).size() == 12);
  // C read P's pages from the tree and copied the partial one in both runs.
  CHECK(cut.tokens.at(4) == MockExecutor::reference_greedy(
                                [] {
                                  auto c = tokens_from(10, 3);
                                  c.insert(c.end(), {60, 61, 62, 63, 64});
                                  return c;
                                }(),
                                kVocab, 6));
}

TEST_CASE("without an interrupt a cancel waits for the step and Cancelled is an error") {
  // No StepInterrupt: a Cancelled status from the executor is not an interrupt the scheduler
  // asked for, so the batch fails as with any other error (it is not retried forever).
  MockExecutor ex(kVocab, kPage, 32);
  std::atomic<bool> flag{true};
  ex.set_interrupt(&flag);
  Scheduler s(ex, {});
  REQUIRE(s.add(1, tokens_from(6, 1), sampled(3, 0.0f, 0)).ok());
  std::vector<StepEvent> events;
  s.step(events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].finish == FinishReason::kError);
  CHECK(s.stats().interrupted_steps == 0);
  CHECK(s.idle());
  REQUIRE(s.check_invariants().ok());
}

}  // namespace
}  // namespace stemma::sched
