// Randomized end-to-end check of the paged KV cache: thousands of interleaved requests with
// shared and diverging prefixes, multi-turn chains, cancellations, and a pool small enough to
// force eviction and preemption. Every token must equal the cache-free reference, with the
// radix cache on and off, and every page reference must be accounted for after every step.
#include <doctest/doctest.h>

#include <map>
#include <random>

#include "engine/sched/scheduler.h"
#include "mock_executor.h"

namespace stemma::sched {
namespace {

using stemma::testing::MockExecutor;

constexpr int64_t kVocab = 61;

struct Planned {
  RequestId id;
  std::vector<int32_t> prompt;
  SamplingOptions options;
  std::vector<int32_t> expect;  // greedy reference (greedy requests only)
};

std::vector<Planned> make_workload(uint32_t seed, int count, bool sampled) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> families;
  for (int f = 0; f < 6; ++f) {
    std::vector<int32_t> base;
    for (int i = 0; i < 90; ++i) base.push_back(static_cast<int32_t>(rng() % kVocab));
    families.push_back(base);
  }
  std::vector<Planned> out;
  std::vector<std::vector<int32_t>> conversations;  // prompt + output of earlier requests
  for (int i = 0; i < count; ++i) {
    Planned p;
    p.id = i;
    std::vector<int32_t> prompt;
    if (!conversations.empty() && rng() % 4 == 0) {
      prompt = conversations[rng() % conversations.size()];  // the next turn of a chat
      if (prompt.size() > 150) prompt.resize(60 + rng() % 60);
    } else {
      const auto& base = families[rng() % families.size()];
      prompt.assign(base.begin(), base.begin() + static_cast<ptrdiff_t>(rng() % base.size()));
    }
    const size_t tail = 1 + rng() % 12;
    for (size_t t = 0; t < tail; ++t) prompt.push_back(static_cast<int32_t>(rng() % kVocab));
    p.prompt = prompt;
    p.options.max_tokens = 1 + static_cast<int32_t>(rng() % 10);
    if (sampled) {
      p.options.temperature = 0.8f;
      p.options.top_k = 20;
      p.options.seed = rng();
    } else {
      p.options.temperature = 0.0f;
      p.expect = MockExecutor::reference_greedy(prompt, kVocab, p.options.max_tokens);
      auto conv = prompt;
      conv.insert(conv.end(), p.expect.begin(), p.expect.end());
      conversations.push_back(conv);
      if (conversations.size() > 40) conversations.erase(conversations.begin());
    }
    out.push_back(std::move(p));
  }
  return out;
}

struct RunResult {
  std::map<RequestId, std::vector<int32_t>> tokens;
  std::map<RequestId, FinishReason> finish;
  EngineStats stats;
};

RunResult run(const std::vector<Planned>& work, SchedulerOptions opt, int32_t page_size,
              int32_t num_pages, uint32_t seed, double cancel_rate) {
  std::mt19937 rng(seed);
  MockExecutor ex(kVocab, page_size, num_pages);
  Scheduler s(ex, opt);
  RunResult res;
  size_t next = 0;
  std::vector<StepEvent> events;
  std::vector<RequestId> live;
  int steps = 0;
  while (next < work.size() || !s.idle()) {
    // Requests arrive a few at a time while others run.
    for (int k = static_cast<int>(rng() % 4); k > 0 && next < work.size(); --k, ++next) {
      REQUIRE(s.add(work[next].id, work[next].prompt, work[next].options).ok());
      live.push_back(work[next].id);
    }
    if (!live.empty() && std::uniform_real_distribution<double>(0, 1)(rng) < cancel_rate) {
      s.cancel(live[rng() % live.size()]);
    }
    events.clear();
    s.step(events);
    ++steps;
    REQUIRE(steps < 200000);
    if (steps % 7 == 0) {
      Status inv = s.check_invariants();
      INFO(inv.to_string());
      REQUIRE(inv.ok());
    }
    for (auto& e : events) {
      auto& t = res.tokens[e.id];
      t.insert(t.end(), e.tokens.begin(), e.tokens.end());
      if (e.finish != FinishReason::kNone) {
        res.finish[e.id] = e.finish;
        std::erase(live, e.id);
      }
    }
  }
  REQUIRE(s.check_invariants().ok());
  res.stats = s.stats();
  // Nothing leaks: only the tree holds pages now, and dropping the cache frees them all.
  CHECK(res.stats.pages_in_use == res.stats.cached_pages);
  s.clear_cache();
  CHECK(s.stats().pages_in_use == 0);
  return res;
}

void check_against_reference(const std::vector<Planned>& work, const RunResult& r) {
  int cancelled = 0;
  for (const auto& p : work) {
    INFO("request " << p.id);
    REQUIRE(r.finish.count(p.id) == 1);
    const auto& got = r.tokens.at(p.id);
    if (r.finish.at(p.id) == FinishReason::kCancelled) {
      ++cancelled;
      REQUIRE(got.size() <= p.expect.size());
      REQUIRE(std::equal(got.begin(), got.end(), p.expect.begin()));
    } else {
      REQUIRE(r.finish.at(p.id) == FinishReason::kLength);
      REQUIRE(got == p.expect);
    }
  }
  MESSAGE("cancelled " << cancelled << " of " << work.size());
}

TEST_CASE("randomized: greedy tokens equal the reference with the cache on and off") {
  for (int32_t page_size : {1, 4, 7}) {
    CAPTURE(page_size);
    auto work = make_workload(100 + static_cast<uint32_t>(page_size), 1500, false);
    // Room for two of the longest requests: eviction and preemption happen all the time.
    const int32_t num_pages = (2 * 175 + page_size - 1) / page_size + 2;
    SchedulerOptions on;
    on.prefill_chunk = 24;
    on.max_batch_tokens = 64;
    on.max_running = 16;
    SchedulerOptions off = on;
    off.radix_cache = false;
    auto a = run(work, on, page_size, num_pages, 7, 0.05);
    auto b = run(work, off, page_size, num_pages, 7, 0.05);
    check_against_reference(work, a);
    check_against_reference(work, b);
    MESSAGE("page " << page_size << ": cached " << a.stats.cached_tokens << " prefill "
                    << a.stats.prefill_tokens << " evicted " << a.stats.evicted_pages
                    << " preempted " << a.stats.preemptions << " (off: prefill "
                    << b.stats.prefill_tokens << ", preempted " << b.stats.preemptions << ")");
    CHECK(a.stats.cached_tokens > 0);
    CHECK(a.stats.evicted_pages > 0);
    CHECK(a.stats.prefill_tokens < b.stats.prefill_tokens);
  }
}

TEST_CASE("randomized: a roomy pool with FCFS order also matches the reference") {
  auto work = make_workload(77, 800, false);
  SchedulerOptions opt;
  opt.cache_aware_order = false;
  opt.prefill_chunk = 64;
  auto r = run(work, opt, 16, 600, 3, 0.02);
  check_against_reference(work, r);
  CHECK(r.stats.preemptions == 0);
}

TEST_CASE("randomized: seeded sampling gives the same tokens with the cache on and off") {
  auto work = make_workload(555, 600, true);
  SchedulerOptions on;
  on.prefill_chunk = 16;
  on.max_running = 8;
  SchedulerOptions off = on;
  off.radix_cache = false;
  auto a = run(work, on, 4, 100, 1, 0.0);
  auto b = run(work, off, 4, 100, 2, 0.0);
  CHECK(a.tokens == b.tokens);
  CHECK(a.stats.cached_tokens > 0);
}

}  // namespace
}  // namespace stemma::sched
