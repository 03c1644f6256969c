#include "engine/sched/scheduler.h"

#include <doctest/doctest.h>

#include <map>

#include "mock_executor.h"

namespace stemma::sched {
namespace {

using stemma::testing::MockExecutor;

constexpr int64_t kVocab = 97;

SamplingOptions greedy(int32_t max_tokens) {
  SamplingOptions o;
  o.temperature = 0.0f;
  o.max_tokens = max_tokens;
  return o;
}

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::vector<float> prompt_logprobs;
  FinishReason finish = FinishReason::kNone;
  std::string error;
};

// Steps until idle, collecting every request's tokens; checks invariants after every step.
std::map<RequestId, Outcome> drain(Scheduler& s, int max_steps = 100000) {
  std::map<RequestId, Outcome> out;
  std::vector<StepEvent> events;
  for (int i = 0; i < max_steps && !s.idle(); ++i) {
    events.clear();
    s.step(events);
    REQUIRE(s.check_invariants().ok());
    for (auto& e : events) {
      auto& o = out[e.id];
      o.tokens.insert(o.tokens.end(), e.tokens.begin(), e.tokens.end());
      o.logprobs.insert(o.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
      o.prompt_logprobs.insert(o.prompt_logprobs.end(), e.prompt_logprobs.begin(),
                               e.prompt_logprobs.end());
      if (e.finish != FinishReason::kNone) {
        o.finish = e.finish;
        o.error = e.error.message();
      }
    }
  }
  REQUIRE(s.idle());
  return out;
}

std::vector<int32_t> iota_tokens(int32_t n, int32_t start) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < n; ++i) t.push_back((start + i * 7) % static_cast<int32_t>(kVocab));
  return t;
}

TEST_CASE("a single greedy request matches the cache-free reference") {
  MockExecutor ex(kVocab, 4, 32);
  Scheduler s(ex, {});
  auto prompt = iota_tokens(10, 3);
  REQUIRE(s.add(1, prompt, greedy(6)).ok());
  auto out = drain(s);
  CHECK(out[1].tokens == MockExecutor::reference_greedy(prompt, kVocab, 6));
  CHECK(out[1].finish == FinishReason::kLength);
  auto st = s.stats();
  CHECK(st.generated_tokens == 6);
  CHECK(st.prefill_tokens == 10);
  CHECK(st.cached_tokens == 0);
}

TEST_CASE("a repeated prompt is served from the cache, partial page by copy-on-write") {
  MockExecutor ex(kVocab, 4, 64);
  Scheduler s(ex, {});
  auto prompt = iota_tokens(11, 5);  // 2 full pages + 3 tokens
  REQUIRE(s.add(1, prompt, greedy(3)).ok());
  drain(s);
  REQUIRE(s.add(2, prompt, greedy(3)).ok());
  auto out = drain(s);
  CHECK(out[2].tokens == MockExecutor::reference_greedy(prompt, kVocab, 3));
  // 10 of 11 tokens can come from the cache (the last one is always computed); pages 0-1 are
  // shared whole and 2 slots of page 2 are copied.
  CHECK(s.stats().cached_tokens == 10);
  CHECK(ex.copies() == 1);
  CHECK(s.stats().prefill_tokens == 11 + 1);
}

TEST_CASE("a prompt that extends a finished conversation reuses its generated tokens") {
  MockExecutor ex(kVocab, 4, 64);
  Scheduler s(ex, {});
  auto turn1 = iota_tokens(9, 1);
  REQUIRE(s.add(1, turn1, greedy(8)).ok());
  auto out1 = drain(s);
  auto turn2 = turn1;
  turn2.insert(turn2.end(), out1[1].tokens.begin(), out1[1].tokens.end());
  turn2.push_back(42);
  turn2.push_back(43);
  REQUIRE(s.add(2, turn2, greedy(4)).ok());
  auto out2 = drain(s);
  CHECK(out2[2].tokens == MockExecutor::reference_greedy(turn2, kVocab, 4));
  // Turn 1 computed 9 + 7 positions (the last generated token is never fed): 16 are cached.
  CHECK(s.stats().cached_tokens == 16);
}

TEST_CASE("cache off computes everything and gives the same tokens") {
  MockExecutor ex(kVocab, 4, 64);
  SchedulerOptions opt;
  opt.radix_cache = false;
  Scheduler s(ex, opt);
  auto prompt = iota_tokens(11, 5);
  REQUIRE(s.add(1, prompt, greedy(3)).ok());
  REQUIRE(s.add(2, prompt, greedy(3)).ok());
  auto out = drain(s);
  CHECK(out[1].tokens == out[2].tokens);
  CHECK(out[1].tokens == MockExecutor::reference_greedy(prompt, kVocab, 3));
  CHECK(s.stats().cached_tokens == 0);
  CHECK(s.stats().pages_in_use == 0);
}

TEST_CASE("add refuses bad requests and names what is wrong") {
  MockExecutor ex(kVocab, 4, 8);
  Scheduler s(ex, {});
  CHECK(s.add(1, {}, greedy(1)).code() == StatusCode::kInvalidArgument);
  auto bad = s.add(2, {1, 2, 200}, greedy(1));
  CHECK(bad.code() == StatusCode::kInvalidArgument);
  CHECK(bad.message().find("token 200 at index 2") != std::string::npos);
  CHECK(s.add(3, iota_tokens(30, 0), greedy(3)).code() == StatusCode::kResourceExhausted);
  REQUIRE(s.add(4, {1, 2}, greedy(1)).ok());
  CHECK(s.add(4, {1, 2}, greedy(1)).code() == StatusCode::kInvalidArgument);  // duplicate id
  SamplingOptions o = greedy(1);
  o.top_p = 2.0f;
  CHECK(s.add(5, {1}, o).code() == StatusCode::kInvalidArgument);
  drain(s);
}

TEST_CASE("stop tokens, EOS and ignore_eos") {
  MockExecutor ex(kVocab, 4, 64);
  auto prompt = iota_tokens(6, 2);
  auto ref = MockExecutor::reference_greedy(prompt, kVocab, 10);
  ex.mutable_config().eos_token_ids = {ref[2]};
  Scheduler s(ex, {});
  REQUIRE(s.add(1, prompt, greedy(10)).ok());
  SamplingOptions no_eos = greedy(10);
  no_eos.ignore_eos = true;
  REQUIRE(s.add(2, prompt, no_eos).ok());
  SamplingOptions stop = greedy(10);
  stop.ignore_eos = true;
  stop.stop_token_ids = {ref[4]};
  REQUIRE(s.add(3, prompt, stop).ok());
  auto out = drain(s);
  auto first_at = [&](int32_t token) {
    return std::vector<int32_t>(ref.begin(), std::find(ref.begin(), ref.end(), token) + 1);
  };
  CHECK(out[1].tokens == first_at(ref[2]));
  CHECK(out[1].finish == FinishReason::kStopToken);
  CHECK(out[2].tokens == ref);
  CHECK(out[2].finish == FinishReason::kLength);
  CHECK(out[3].tokens == first_at(ref[4]));
}

TEST_CASE("the stop checker hook ends a request") {
  struct StopAfterTwo : StopChecker {
    bool should_stop(std::span<const int32_t> generated) override { return generated.size() >= 2; }
  };
  MockExecutor ex(kVocab, 4, 64);
  Scheduler s(ex, {});
  SamplingOptions o = greedy(10);
  o.stop_checker = std::make_shared<StopAfterTwo>();
  REQUIRE(s.add(1, iota_tokens(5, 1), o).ok());
  auto out = drain(s);
  CHECK(out[1].tokens.size() == 2);
  CHECK(out[1].finish == FinishReason::kStopString);
}

TEST_CASE("a failing forward finishes that batch with an error and the scheduler goes on") {
  MockExecutor ex(kVocab, 4, 64);
  Scheduler s(ex, {});
  REQUIRE(s.add(1, iota_tokens(5, 1), greedy(3)).ok());
  ex.fail_next_forward();
  auto out = drain(s);
  CHECK(out[1].finish == FinishReason::kError);
  CHECK(out[1].error.find("injected failure") != std::string::npos);
  REQUIRE(s.add(2, iota_tokens(5, 1), greedy(3)).ok());
  out = drain(s);
  CHECK(out[2].tokens == MockExecutor::reference_greedy(iota_tokens(5, 1), kVocab, 3));
  s.clear_cache();
  CHECK(s.stats().pages_in_use == 0);
}

TEST_CASE("chunked prefill and the batch token budget are honoured") {
  MockExecutor ex(kVocab, 4, 256);
  SchedulerOptions opt;
  opt.prefill_chunk = 8;
  opt.max_batch_tokens = 12;
  Scheduler s(ex, opt);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 5; ++i) prompts.push_back(iota_tokens(30 + i, i * 11));
  for (int i = 0; i < 5; ++i) REQUIRE(s.add(i, prompts[static_cast<size_t>(i)], greedy(5)).ok());
  auto out = drain(s);
  for (int i = 0; i < 5; ++i) {
    CHECK(out[i].tokens ==
          MockExecutor::reference_greedy(prompts[static_cast<size_t>(i)], kVocab, 5));
  }
  // 5 prompts of >= 30 tokens at <= 12 tokens a step need many steps; all tokens computed once.
  CHECK(s.stats().steps >= (5 * 30) / 12);
  CHECK(ex.tokens_computed() == s.stats().computed_tokens);
}

TEST_CASE("cancelling queued and running requests releases their pages") {
  MockExecutor ex(kVocab, 4, 64);
  Scheduler s(ex, {});
  REQUIRE(s.add(1, iota_tokens(12, 1), greedy(50)).ok());
  REQUIRE(s.add(2, iota_tokens(12, 9), greedy(50)).ok());
  std::vector<StepEvent> events;
  s.step(events);
  s.step(events);
  CHECK(s.cancel(1));
  CHECK(s.cancel(2));
  CHECK_FALSE(s.cancel(99));
  auto out = drain(s);
  CHECK(out[1].finish == FinishReason::kCancelled);
  CHECK(out[2].finish == FinishReason::kCancelled);
  s.clear_cache();
  CHECK(s.stats().pages_in_use == 0);
}

TEST_CASE("cache-aware order prefers cached prompts but no request waits past the bound") {
  MockExecutor ex(kVocab, 4, 512);
  SchedulerOptions opt;
  opt.max_running = 1;  // one at a time makes the order visible
  opt.max_wait_steps = 20;
  Scheduler s(ex, opt);
  auto shared = iota_tokens(40, 3);
  REQUIRE(s.add(0, shared, greedy(1)).ok());
  drain(s);
  // A cold request first, then a flood of requests that hit the cache.
  REQUIRE(s.add(100, iota_tokens(40, 50), greedy(1)).ok());
  for (int i = 1; i <= 60; ++i) {
    auto p = shared;
    p.push_back(i);
    REQUIRE(s.add(i, p, greedy(1)).ok());
  }
  std::vector<RequestId> finish_order;
  std::vector<StepEvent> events;
  int64_t cold_done_at = -1;
  for (int step = 0; !s.idle(); ++step) {
    events.clear();
    s.step(events);
    for (auto& e : events) {
      if (e.finish != FinishReason::kNone) finish_order.push_back(e.id);
      if (e.id == 100 && e.finish != FinishReason::kNone) cold_done_at = step;
    }
  }
  // Cached ones went first, yet the cold one finished soon after its wait bound.
  REQUIRE(finish_order.size() == 61);
  CHECK(finish_order.front() != 100);
  CHECK(cold_done_at >= 0);
  CHECK(cold_done_at <= opt.max_wait_steps + 3);
  CHECK(finish_order.back() != 100);
}

TEST_CASE("a backend that picks argmax rows gives the same outputs as host sampling") {
  // The same requests through a backend returning every row and one answering argmax_only
  // steps with ids: plain greedy picks and unused prefill rows take the id path; logprobs,
  // penalties, sampling and prompt logprobs keep their rows.
  auto run = [](bool argmax_rows, int64_t* served) {
    MockExecutor ex(kVocab, 4, 256);
    ex.set_argmax_rows(argmax_rows);
    SchedulerOptions opt;
    opt.prefill_chunk = 8;  // long prompts go in chunks whose rows nobody samples
    Scheduler s(ex, opt);
    SamplingOptions plain = greedy(9);
    SamplingOptions with_logprobs = greedy(7);
    with_logprobs.logprobs = true;
    SamplingOptions sampled = greedy(8);
    sampled.temperature = 0.9f;
    sampled.seed = 5;
    SamplingOptions prompt_lp = greedy(6);
    prompt_lp.prompt_logprobs_from = 2;
    SamplingOptions penalised = greedy(8);
    penalised.repetition_penalty = 1.3f;
    REQUIRE(s.add(1, iota_tokens(12, 3), plain).ok());
    REQUIRE(s.add(2, iota_tokens(10, 4), with_logprobs).ok());
    REQUIRE(s.add(3, iota_tokens(9, 5), sampled).ok());
    REQUIRE(s.add(4, iota_tokens(21, 6), prompt_lp).ok());
    REQUIRE(s.add(5, iota_tokens(40, 7), plain).ok());
    REQUIRE(s.add(6, iota_tokens(14, 8), penalised).ok());
    auto out = drain(s);
    *served = ex.argmax_rows_served();
    return out;
  };
  int64_t served_off = 0, served_on = 0;
  auto rows = run(false, &served_off);
  auto ids = run(true, &served_on);
  CHECK(served_off == 0);
  // Requests 1, 4 and 5 decode by id (9 + 6 + 9 steps, less their first token, which comes
  // with the last prompt chunk, also by id); unused prefill rows of 4 and 5 too.
  CHECK(served_on >= 9 + 6 + 9);
  REQUIRE(rows.size() == 6);
  for (RequestId id = 1; id <= 6; ++id) {
    CAPTURE(id);
    CHECK(ids[id].tokens == rows[id].tokens);
    CHECK(ids[id].logprobs == rows[id].logprobs);
    CHECK(ids[id].prompt_logprobs == rows[id].prompt_logprobs);
    CHECK(ids[id].finish == FinishReason::kLength);
  }
  CHECK(rows[1].tokens == MockExecutor::reference_greedy(iota_tokens(12, 3), kVocab, 9));
  CHECK(rows[2].logprobs.size() == 7);
  CHECK(rows[4].prompt_logprobs.size() == 19);
}

}  // namespace
}  // namespace stemma::sched
