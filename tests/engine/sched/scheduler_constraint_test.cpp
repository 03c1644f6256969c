// Constraints, jump-forward, stop strings and prompt logprobs inside the scheduler, under the
// same stress as the randomized cache test: a pool small enough for eviction and preemption,
// cancellations, the radix cache on. Every finished request must equal a run with the cache off
// and a roomy pool (same seeds, same logits: same tokens), constrained outputs must match their
// regex (RE2), and prompt logprobs must equal ones computed from the tokens alone.
#include <doctest/doctest.h>
#include <re2/re2.h>

#include <map>
#include <random>

#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/vocab_loader.h"
#include "engine/sample/sampler.h"
#include "engine/sched/scheduler.h"
#include "mock_executor.h"
#include "tests/engine/sample/tiny_tokenizer.h"

namespace stemma::sched {
namespace {

using stemma::testing::MockExecutor;

const Tokenizer& tok() {
  static auto t =
      testing::make_tiny_tokenizer({"{\"", "\":\"", "\":", "\",\"", ",\"", "\"}", "name", "true",
                                    "false", "abc", "ab", "12", " the", " a", "ok"});
  return *t;
}

std::shared_ptr<const constrain::TokenIndex> index() {
  static std::shared_ptr<const constrain::TokenIndex> idx = [] {
    auto v = constrain::vocabulary_from_tokenizer_spec(tok().spec());
    REQUIRE(v.ok());
    auto i = constrain::TokenIndex::build(std::move(*v));
    REQUIRE(i.ok());
    return *i;
  }();
  return idx;
}

const std::vector<std::string>& patterns() {
  static const std::vector<std::string> p = {
      R"(\{"name":"[a-c]{1,8}","n":(0|[1-9][0-9]{0,3}),"ok":(true|false)\})",
      R"((abc|ab|12)+x)",
      R"([a-z]{2,5}( [a-z]{2,5}){0,3}\.)",
      R"(true|false|maybe)",
      R"(\{"name":"[a-c]+"\})",
  };
  return p;
}

std::vector<std::shared_ptr<const constrain::CompiledConstraint>> constraints() {
  std::vector<std::shared_ptr<const constrain::CompiledConstraint>> out;
  for (const auto& p : patterns()) {
    auto c = constrain::CompiledConstraint::from_regex(p, index());
    REQUIRE(c.ok());
    out.push_back(*c);
  }
  return out;
}

struct Planned {
  RequestId id;
  std::vector<int32_t> prompt;
  SamplingOptions options;
  int pattern = -1;
};

std::vector<Planned> make_workload(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  const int32_t vocab = tok().vocab_size();
  const auto cs = constraints();
  std::vector<std::vector<int32_t>> families;
  for (int f = 0; f < 5; ++f) {
    std::vector<int32_t> base;
    for (int i = 0; i < 80; ++i) base.push_back(static_cast<int32_t>(rng() % (vocab - 2)));
    families.push_back(base);
  }
  std::vector<Planned> out;
  for (int i = 0; i < count; ++i) {
    Planned p;
    p.id = i;
    const auto& base = families[rng() % families.size()];
    p.prompt.assign(base.begin(), base.begin() + static_cast<ptrdiff_t>(rng() % base.size()));
    for (size_t t = 1 + rng() % 8; t > 0; --t) {
      p.prompt.push_back(static_cast<int32_t>(rng() % (vocab - 2)));
    }
    SamplingOptions& o = p.options;
    o.max_tokens = 1 + static_cast<int32_t>(rng() % 40);
    o.temperature = 0.9f;
    o.seed = rng();
    if (rng() % 2 == 0) {
      p.pattern = static_cast<int>(rng() % cs.size());
      o.constraint = cs[static_cast<size_t>(p.pattern)];
      o.jump_forward = rng() % 4 != 0;
      o.max_tokens += 20;
    }
    if (rng() % 5 == 0)
      o.prompt_logprobs_from = 1 + static_cast<int32_t>(rng() % (p.prompt.size()));
    if (o.prompt_logprobs_from >= static_cast<int32_t>(p.prompt.size()))
      o.prompt_logprobs_from = -1;
    if (rng() % 6 == 0) o.stop_strings = {rng() % 2 ? "b" : "12", "zz"};
    if (rng() % 8 == 0) o.logprobs = true;
    out.push_back(std::move(p));
  }
  return out;
}

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::string text;
  std::vector<float> prompt_logprobs;
  FinishReason finish = FinishReason::kNone;
  int32_t jump_forward_tokens = 0;
};

struct RunResult {
  std::map<RequestId, Outcome> out;
  EngineStats stats;
};

RunResult run(const std::vector<Planned>& work, bool cache, int32_t page_size, int32_t num_pages,
              uint32_t seed, double cancel_rate) {
  std::mt19937 rng(seed);
  MockExecutor ex(tok().vocab_size(), page_size, num_pages);
  ex.mutable_config().eos_token_ids = {tok().eos_id()};
  SchedulerOptions opt;
  opt.radix_cache = cache;
  opt.prefill_chunk = 16;
  opt.max_batch_tokens = 48;
  opt.max_running = 12;
  opt.tokenizer = &tok();
  Scheduler s(ex, opt);
  RunResult res;
  size_t next = 0;
  std::vector<StepEvent> events;
  std::vector<RequestId> live;
  int steps = 0;
  while (next < work.size() || !s.idle()) {
    for (int k = static_cast<int>(rng() % 4); k > 0 && next < work.size(); --k, ++next) {
      Status added = s.add(work[next].id, work[next].prompt, work[next].options);
      INFO(added.to_string());
      REQUIRE(added.ok());
      live.push_back(work[next].id);
    }
    if (!live.empty() && std::uniform_real_distribution<double>(0, 1)(rng) < cancel_rate) {
      s.cancel(live[rng() % live.size()]);
    }
    events.clear();
    s.step(events);
    REQUIRE(++steps < 100000);
    if (steps % 5 == 0) {
      Status inv = s.check_invariants();
      INFO(inv.to_string());
      REQUIRE(inv.ok());
    }
    for (auto& e : events) {
      Outcome& o = res.out[e.id];
      o.tokens.insert(o.tokens.end(), e.tokens.begin(), e.tokens.end());
      o.logprobs.insert(o.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
      o.text += e.text;
      if (!e.prompt_logprobs.empty()) {
        REQUIRE(o.prompt_logprobs.empty());  // sent once
        o.prompt_logprobs = e.prompt_logprobs;
      }
      if (e.finish != FinishReason::kNone) {
        o.finish = e.finish;
        o.jump_forward_tokens = e.jump_forward_tokens;
        std::erase(live, e.id);
      }
    }
  }
  REQUIRE(s.check_invariants().ok());
  res.stats = s.stats();
  CHECK(res.stats.pages_in_use == res.stats.cached_pages);
  s.clear_cache();
  CHECK(s.stats().pages_in_use == 0);
  return res;
}

std::vector<float> reference_prompt_logprobs(const std::vector<int32_t>& prompt, int32_t from) {
  std::vector<float> out;
  std::vector<float> row;
  for (size_t i = static_cast<size_t>(from); i < prompt.size(); ++i) {
    row.clear();
    MockExecutor::reference_logits(std::span<const int32_t>(prompt.data(), i), tok().vocab_size(),
                                   row);
    out.push_back(sampling::log_softmax_at(row, prompt[i]));
  }
  return out;
}

TEST_CASE(
    "randomized: constraints, jump-forward, stop strings, prompt logprobs under eviction, "
    "preemption and cancellation equal the roomy cache-free run") {
  for (int32_t page_size : {1, 4, 5}) {
    CAPTURE(page_size);
    auto work = make_workload(900 + static_cast<uint32_t>(page_size), 500);
    const int32_t num_pages = (2 * 150 + page_size - 1) / page_size + 2;
    auto a = run(work, true, page_size, num_pages, 11, 0.03);
    auto b = run(work, false, page_size, 4000 / page_size, 12, 0.0);
    int cancelled = 0, matched = 0, stopped_by_string = 0, with_plp = 0;
    for (const auto& p : work) {
      CAPTURE(p.id);
      const Outcome& got = a.out.at(p.id);
      const Outcome& ref = b.out.at(p.id);
      REQUIRE(ref.finish != FinishReason::kCancelled);
      REQUIRE(ref.finish != FinishReason::kError);
      // The event stream adds up to the decode of the tokens (stop strings cut it).
      auto decoded = tok().decode(ref.tokens, {.skip_special = true});
      REQUIRE(decoded.ok());
      if (ref.finish == FinishReason::kStopString) {
        ++stopped_by_string;
        CHECK(decoded->substr(0, ref.text.size()) == ref.text);
      } else {
        CHECK(*decoded == ref.text);
      }
      if (p.options.logprobs) CHECK(ref.logprobs.size() == ref.tokens.size());
      CHECK(ref.tokens.size() <= static_cast<size_t>(p.options.max_tokens));
      if (p.options.prompt_logprobs_from >= 1) {
        ++with_plp;
        CHECK(ref.prompt_logprobs ==
              reference_prompt_logprobs(p.prompt, p.options.prompt_logprobs_from));
      }
      if (p.pattern >= 0) {
        RE2 re(patterns()[static_cast<size_t>(p.pattern)]);
        CAPTURE(ref.text);
        if (ref.finish == FinishReason::kStopToken) {
          CHECK(RE2::FullMatch(ref.text, re));
          ++matched;
        }
        if (!p.options.jump_forward) CHECK(ref.jump_forward_tokens == 0);
      }
      if (got.finish == FinishReason::kCancelled) {
        ++cancelled;
        REQUIRE(got.tokens.size() <= ref.tokens.size());
        CHECK(std::equal(got.tokens.begin(), got.tokens.end(), ref.tokens.begin()));
        continue;
      }
      CHECK(got.finish == ref.finish);
      CHECK(got.tokens == ref.tokens);
      CHECK(got.text == ref.text);
      CHECK(got.logprobs == ref.logprobs);
      CHECK(got.prompt_logprobs == ref.prompt_logprobs);
      CHECK(got.jump_forward_tokens == ref.jump_forward_tokens);
    }
    MESSAGE("page " << page_size << ": cancelled " << cancelled << ", constrained complete "
                    << matched << ", stop strings " << stopped_by_string << ", prompt logprobs "
                    << with_plp << ", jump-forward tokens " << a.stats.jump_forward_tokens
                    << ", preempted " << a.stats.preemptions << ", evicted "
                    << a.stats.evicted_pages);
    CHECK(matched > 100);
    CHECK(stopped_by_string > 5);
    CHECK(with_plp > 50);
    CHECK(a.stats.jump_forward_tokens > 100);
    CHECK(a.stats.preemptions > 0);
    CHECK(a.stats.evicted_pages > 0);
  }
}

TEST_CASE("jump-forward: forced text is tokenized as the tokenizer would, boundary included") {
  MockExecutor ex(tok().vocab_size(), 4, 256);
  ex.mutable_config().eos_token_ids = {tok().eos_id()};
  SchedulerOptions opt;
  opt.tokenizer = &tok();
  Scheduler s(ex, opt);
  auto c = constrain::CompiledConstraint::from_regex(R"(\{"name":"[a-c]+"\})", index());
  REQUIRE(c.ok());
  const std::vector<int32_t> open = tok().encode("{\"name\":\"", {.add_special = false});
  const std::vector<int32_t> close = tok().encode("\"}", {.add_special = false});
  REQUIRE(close.size() == 1);  // `"` then forced `}` must merge into the `"}` token
  int64_t steps_without_jump = 0, steps_with_jump = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    for (bool jump : {true, false}) {
      SamplingOptions o;
      o.temperature = 1.0f;
      o.seed = seed;
      o.max_tokens = 64;
      o.constraint = *c;
      o.jump_forward = jump;
      const RequestId id = static_cast<RequestId>(seed * 2 + (jump ? 1 : 0));
      REQUIRE(s.add(id, {1, 2, 3}, o).ok());
      std::vector<int32_t> tokens;
      FinishReason finish = FinishReason::kNone;
      int64_t before = s.stats().steps;
      std::vector<StepEvent> events;
      while (finish == FinishReason::kNone) {
        events.clear();
        s.step(events);
        for (const auto& e : events) {
          tokens.insert(tokens.end(), e.tokens.begin(), e.tokens.end());
          finish = e.finish;
        }
      }
      (jump ? steps_with_jump : steps_without_jump) += s.stats().steps - before;
      CHECK(finish == FinishReason::kStopToken);
      auto text = tok().decode(tokens);
      REQUIRE(text.ok());
      CAPTURE(*text);
      CAPTURE(jump);
      REQUIRE(RE2::FullMatch(*text, R"(\{"name":"[a-c]+"\})"));
      if (jump) {
        // The forced start is exactly the tokenizer's spelling; the end merges `"` + `}`.
        REQUIRE(tokens.size() > open.size() + 1);
        CHECK(std::equal(open.begin(), open.end(), tokens.begin()));
        CHECK(tokens.back() == close[0]);
      }
    }
  }
  MESSAGE("model steps: " << steps_with_jump << " with jump-forward, " << steps_without_jump
                          << " without");
  CHECK(steps_with_jump < steps_without_jump);
}

TEST_CASE("jump-forward with a SentencePiece tokenizer (space prefix): forced text still jumps") {
  auto sp = testing::make_tiny_sp_tokenizer({"{\"", "\":\"", "\"}", "name", " name"});
  REQUIRE(sp);
  auto v = constrain::vocabulary_from_tokenizer_spec(sp->spec());
  REQUIRE(v.ok());
  auto idx = constrain::TokenIndex::build(std::move(*v));
  REQUIRE(idx.ok());
  auto c = constrain::CompiledConstraint::from_regex(R"(\{"name":"[a-c ]+"\})", *idx);
  REQUIRE(c.ok());
  MockExecutor ex(sp->vocab_size(), 4, 256);
  ex.mutable_config().eos_token_ids = {sp->eos_id()};
  SchedulerOptions opt;
  opt.tokenizer = sp.get();
  Scheduler s(ex, opt);
  int64_t forced = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SamplingOptions o;
    o.temperature = 1.0f;
    o.seed = seed;
    o.max_tokens = 64;
    o.constraint = *c;
    REQUIRE(s.add(static_cast<RequestId>(seed), {1, 5, 6}, o).ok());
    std::string text;
    FinishReason finish = FinishReason::kNone;
    std::vector<StepEvent> events;
    while (finish == FinishReason::kNone) {
      events.clear();
      s.step(events);
      for (const auto& e : events) {
        text += e.text;
        finish = e.finish;
        if (e.finish != FinishReason::kNone) forced += e.jump_forward_tokens;
      }
    }
    CAPTURE(text);
    CHECK(finish == FinishReason::kStopToken);
    CHECK(RE2::FullMatch(text, R"(\{"name":"[a-c ]+"\})"));
  }
  // The forced `{"name":"` (3 tokens without a space prefix) and the closing `}` every time.
  CHECK(forced >= 20 * 3);
  CHECK(s.stats().jump_forward_tokens == forced);
}

}  // namespace
}  // namespace stemma::sched
