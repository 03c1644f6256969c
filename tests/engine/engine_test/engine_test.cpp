#include "engine/api/engine.h"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "engine/engine_internal.h"
#include "engine/sample/sampler.h"
#include "mock_executor.h"

namespace stemma {
namespace {

using stemma::testing::MockExecutor;

constexpr int64_t kVocab = 97;

std::unique_ptr<Engine> open_mock(int32_t page_size, int32_t num_pages, bool cache = true) {
  EngineOptions o;
  o.radix_cache = cache;
  o.prefill_chunk = 16;
  o.max_batch_tokens = 64;
  auto e = internal::open_engine(
      o, {.executor = std::make_shared<MockExecutor>(kVocab, page_size, num_pages)});
  REQUIRE(e.ok());
  return std::move(e).value();
}

GenerationOptions greedy(int32_t max_tokens) {
  GenerationOptions s;
  s.temperature = 0.0f;
  s.max_tokens = max_tokens;
  return s;
}

TEST_CASE("Engine::open needs a model") {
  auto e = Engine::open({});
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == StatusCode::kInvalidArgument);
  EngineOptions bad;
  bad.page_size = 0;
  CHECK_FALSE(
      internal::open_engine(bad, {.executor = std::make_shared<MockExecutor>(kVocab, 4, 8)}).ok());
}

TEST_CASE("Engine generates the reference tokens and streams them") {
  auto engine = open_mock(4, 64);
  std::vector<int32_t> prompt{5, 6, 7, 8, 9, 10};
  std::vector<int32_t> streamed;
  FinishReason last = FinishReason::kNone;
  auto id = engine->submit(prompt, greedy(7), [&](const StreamEvent& e) {
    streamed.insert(streamed.end(), e.tokens.begin(), e.tokens.end());
    if (e.finish != FinishReason::kNone) last = e.finish;
  });
  REQUIRE(id.ok());
  auto out = engine->wait(*id);
  REQUIRE(out.ok());
  CHECK(out->tokens == MockExecutor::reference_greedy(prompt, kVocab, 7));
  CHECK(out->finish == FinishReason::kLength);
  CHECK(streamed == out->tokens);  // the callback ran before wait() returned
  CHECK(last == FinishReason::kLength);
  CHECK(engine->wait(*id).status().code() == StatusCode::kNotFound);  // collected once
  auto st = engine->stats();
  CHECK(st.generated_tokens == 7);
  CHECK(st.prefill_tokens == 6);
  CHECK(st.pages_total == 64);
}

TEST_CASE("Engine refuses bad requests at submit") {
  auto engine = open_mock(4, 8);
  CHECK(engine->submit({}, greedy(1)).status().code() == StatusCode::kInvalidArgument);
  CHECK(engine->submit({1, 500}, greedy(1)).status().message().find("500") != std::string::npos);
  CHECK(engine->submit(std::vector<int32_t>(40, 1), greedy(1)).status().code() ==
        StatusCode::kResourceExhausted);
  CHECK(engine->cancel(12345).code() == StatusCode::kNotFound);
}

TEST_CASE("Engine logprobs come with the tokens") {
  auto engine = open_mock(4, 64);
  GenerationOptions o = greedy(4);
  o.logprobs = true;
  auto out = engine->generate({1, 2, 3}, o);
  REQUIRE(out.ok());
  REQUIRE(out->logprobs.size() == 4);
  std::vector<int32_t> seq{1, 2, 3};
  for (size_t i = 0; i < 4; ++i) {
    std::vector<float> logits;
    MockExecutor::reference_logits(seq, kVocab, logits);
    CHECK(out->logprobs[i] == doctest::Approx(sampling::log_softmax_at(logits, out->tokens[i])));
    seq.push_back(out->tokens[i]);
  }
}

TEST_CASE("Engine cancel stops a long request and keeps what it made") {
  auto engine = open_mock(4, 5100);
  std::atomic<int> seen{0};
  std::atomic<RequestId> target{0};
  // The callback cancels its own request once it has seen a few tokens (callbacks may call
  // cancel), so the test does not race the worker thread.
  auto id = engine->submit({1, 2, 3}, greedy(20000), [&](const StreamEvent& e) {
    seen += static_cast<int>(e.tokens.size());
    if (seen.load() >= 3 && target.load() != 0) (void)engine->cancel(target.load());
  });
  REQUIRE(id.ok());
  target = *id;
  auto out = engine->wait(*id);
  REQUIRE(out.ok());
  CHECK(out->finish == FinishReason::kCancelled);
  CHECK(out->tokens.size() >= 3);
  CHECK(out->tokens.size() < 20000);
  auto ref =
      MockExecutor::reference_greedy({1, 2, 3}, kVocab, static_cast<int32_t>(out->tokens.size()));
  CHECK(out->tokens == ref);
}

TEST_CASE("Engine serves many threads at once, cache on equal to cache off") {
  std::vector<std::vector<int32_t>> prompts;
  std::mt19937 rng(9);
  std::vector<int32_t> system;
  for (int i = 0; i < 40; ++i) system.push_back(static_cast<int32_t>(rng() % kVocab));
  for (int i = 0; i < 120; ++i) {
    auto p = system;
    p.resize(10 + rng() % 30);
    for (int k = 0; k < 5; ++k) p.push_back(static_cast<int32_t>(rng() % kVocab));
    prompts.push_back(p);
  }
  auto run = [&](bool cache) {
    auto engine = open_mock(4, 80, cache);
    std::vector<std::vector<int32_t>> out(prompts.size());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = static_cast<size_t>(t); i < prompts.size(); i += 4) {
          auto r = engine->generate(prompts[i], greedy(6));
          CHECK(r.ok());  // not REQUIRE: it would throw on this thread
          if (r.ok()) out[i] = r->tokens;
        }
      });
    }
    for (auto& th : threads) th.join();
    engine->wait_idle();
    auto st = engine->stats();
    CHECK(st.running == 0);
    CHECK(st.queued == 0);
    CHECK(st.pages_in_use == st.cached_pages);  // nothing but the cache holds pages
    return std::make_pair(out, st);
  };
  auto [on, on_stats] = run(true);
  auto [off, off_stats] = run(false);
  CHECK(on == off);
  for (size_t i = 0; i < prompts.size(); ++i) {
    CHECK(on[i] == MockExecutor::reference_greedy(prompts[i], kVocab, 6));
  }
  CHECK(on_stats.cached_tokens > 0);
  CHECK(off_stats.cached_tokens == 0);
  CHECK(off_stats.pages_in_use == 0);
}

TEST_CASE("a callback may submit follow-up requests (agent loop)") {
  auto engine = open_mock(4, 128);
  std::mutex mu;
  std::vector<RequestId> follow_ups;
  std::vector<int32_t> prompt{3, 1, 4, 1, 5, 9, 2, 6};
  auto id = engine->submit(prompt, greedy(3), [&](const StreamEvent& e) {
    if (e.finish == FinishReason::kNone) return;
    auto next = engine->submit({3, 1, 4, 1, 5, 9, 2, 6, 5}, greedy(2));
    std::lock_guard<std::mutex> lock(mu);
    if (next.ok()) follow_ups.push_back(*next);
  });
  REQUIRE(id.ok());
  REQUIRE(engine->wait(*id).ok());
  engine->wait_idle();
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(follow_ups.size() == 1);
  auto out = engine->wait(follow_ups[0]);
  REQUIRE(out.ok());
  CHECK(out->tokens == MockExecutor::reference_greedy({3, 1, 4, 1, 5, 9, 2, 6, 5}, kVocab, 2));
  CHECK(engine->stats().cached_tokens >= 8);
}

TEST_CASE("waiting inside a stream callback is FailedPrecondition, not a deadlock") {
  auto engine = open_mock(4, 128);
  std::vector<int32_t> prompt{2, 7, 1, 8, 2, 8};
  Status nested_generate, nested_wait_self, nested_wait_other;
  int nested_events = 0;
  bool first = true;
  RequestId self = 0;
  auto id = engine->submit(prompt, greedy(4), [&](const StreamEvent& e) {
    if (!first) return;
    first = false;
    self = e.id;
    nested_generate = engine->generate({4, 5, 6}, greedy(3)).status();
    nested_wait_self = engine->wait(e.id).status();
    auto other =
        engine->submit({9, 9, 9}, greedy(50), [&](const StreamEvent&) { ++nested_events; });
    nested_wait_other = other.ok() ? engine->wait(*other).status() : other.status();
    engine->wait_idle();  // returns at once here
  });
  REQUIRE(id.ok());
  engine->wait_idle();
  CHECK(nested_generate.code() == StatusCode::kFailedPrecondition);
  CHECK(nested_generate.message().find("stream callback") != std::string::npos);
  CHECK(nested_wait_other.code() == StatusCode::kFailedPrecondition);
  CHECK(nested_events == 0);  // a request waited for in a callback streams nothing afterwards
  // The request whose callback waited on itself is cancelled; with no other thread waiting
  // for it, its output is dropped.
  CHECK(self == *id);
  CHECK(nested_wait_self.code() == StatusCode::kFailedPrecondition);
  CHECK(engine->wait(*id).status().code() == StatusCode::kNotFound);
  CHECK(engine->stats().running == 0);
  CHECK(engine->stats().queued == 0);
  // The engine still serves requests afterwards.
  auto again = engine->generate(prompt, greedy(4));
  REQUIRE(again.ok());
  CHECK(again->tokens == MockExecutor::reference_greedy(prompt, kVocab, 4));
}

TEST_CASE("destroying the engine with requests in flight releases waiters") {
  auto engine = open_mock(4, 256);
  auto id = engine->submit({1, 2}, greedy(900));
  REQUIRE(id.ok());
  engine.reset();  // must not hang or crash
  CHECK(engine == nullptr);
}

}  // namespace
}  // namespace stemma
