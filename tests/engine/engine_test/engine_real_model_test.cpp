// The Engine on real (tiny) models through the CPU executor, checked against HF transformers:
// tests/fixtures/models/<arch>/reference.json holds HF's greedy continuations. Requests that
// resume those continuations at many points share long prefixes, so the radix cache, copy-on-
// write of partial pages and eviction are all exercised; every request must still produce HF's
// tokens, with the cache on and off.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/api/engine.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/engine_internal.h"
#include "engine/sample/sampler.h"

namespace stemma {
namespace {

struct Reference {
  std::vector<int32_t> prompt;
  std::vector<int32_t> greedy;
};

std::vector<Reference> read_reference(const std::string& dir) {
  std::ifstream in(dir + "/reference.json");
  REQUIRE(in.good());
  auto j = nlohmann::json::parse(in);
  std::vector<Reference> out;
  for (const auto& s : j["variants"]["f32"]["sequences"]) {
    out.push_back(
        {s["prompt"].get<std::vector<int32_t>>(), s["greedy"].get<std::vector<int32_t>>()});
  }
  return out;
}

void check_model(const std::string& name, bool cache, int32_t num_pages) {
  const std::string dir = std::string(STEMMA_FIXTURES_DIR) + "/models/" + name;
  if (!std::filesystem::exists(dir + "/reference.json")) {
    MESSAGE("fixture " << dir << " missing");
    return;
  }
  auto refs = read_reference(dir);
  EngineOptions o;
  o.model_path = dir;
  o.threads = 1;
  o.page_size = 4;
  o.num_pages = num_pages;
  o.prefill_chunk = 16;
  o.max_batch_tokens = 48;
  o.radix_cache = cache;
  auto engine = Engine::open(o);
  REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
  struct Expect {
    RequestId id;
    std::vector<int32_t> tokens;
  };
  std::vector<Expect> expects;
  for (const auto& r : refs) {
    // Resume HF's greedy run after j of its tokens: the rest must follow.
    for (size_t j = 0; j + 4 <= r.greedy.size(); j += 5) {
      auto prompt = r.prompt;
      prompt.insert(prompt.end(), r.greedy.begin(), r.greedy.begin() + static_cast<ptrdiff_t>(j));
      GenerationOptions s;
      s.temperature = 0.0f;
      s.ignore_eos = true;
      s.max_tokens = static_cast<int32_t>(std::min<size_t>(8, r.greedy.size() - j));
      auto id = (*engine)->submit(prompt, s);
      REQUIRE(id.ok());
      expects.push_back(
          {*id, std::vector<int32_t>(r.greedy.begin() + static_cast<ptrdiff_t>(j),
                                     r.greedy.begin() + static_cast<ptrdiff_t>(j) + s.max_tokens)});
    }
  }
  for (const auto& e : expects) {
    auto out = (*engine)->wait(e.id);
    REQUIRE(out.ok());
    CHECK(out->tokens == e.tokens);
  }
  auto st = (*engine)->stats();
  MESSAGE(name << " cache " << cache << ": cached " << st.cached_tokens << " prefill "
               << st.prefill_tokens << " evicted " << st.evicted_pages << " preempted "
               << st.preemptions);
  if (cache) CHECK(st.cached_tokens > 0);
  CHECK(st.pages_in_use == st.cached_pages);
}

TEST_CASE("Engine on tiny HF models reproduces HF greedy tokens, cache on and off") {
  for (const char* name : {"llama", "qwen2", "qwen3"}) {
    CAPTURE(name);
    check_model(name, true, 400);
    check_model(name, false, 400);
  }
}

TEST_CASE("Engine on a tiny HF model with a small pool: eviction and preemption keep tokens") {
  check_model("llama3", true, 22);  // 88 positions: about one long request at a time
}

// log p(tokens[i] | tokens[0..i)) for i >= from, running the tokens one decode step at a time.
std::vector<float> one_by_one_logprobs(std::shared_ptr<const LoadedModel> model,
                                       const std::vector<int32_t>& tokens, size_t from) {
  KvCacheShape kv;
  kv.page_size = 4;
  kv.num_pages = static_cast<int64_t>(tokens.size() / 4 + 2);
  auto exec = cpu::CpuExecutor::create(model, kv, 1);
  REQUIRE(exec.ok());
  std::vector<int32_t> pages(static_cast<size_t>(kv.num_pages));
  for (size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<int32_t>(i);
  std::vector<float> out;
  std::vector<float> logits;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    SequenceStep step;
    step.tokens = std::span<const int32_t>(&tokens[i], 1);
    step.past_len = static_cast<int32_t>(i);
    step.pages = std::span<const int32_t>(pages.data(), i / 4 + 1);
    logits.clear();
    REQUIRE((*exec)->forward(std::span<const SequenceStep>(&step, 1), logits).ok());
    if (i + 1 >= from) out.push_back(sampling::log_softmax_at(logits, tokens[i + 1]));
  }
  return out;
}

TEST_CASE("Engine prompt logprobs equal the model run one token at a time, cache on") {
  for (const char* name : {"llama", "qwen3"}) {
    CAPTURE(name);
    const std::string dir = std::string(STEMMA_FIXTURES_DIR) + "/models/" + name;
    if (!std::filesystem::exists(dir + "/reference.json")) {
      MESSAGE("fixture " << dir << " missing");
      continue;
    }
    auto loaded = load_model(dir);
    REQUIRE(loaded.ok());
    auto model = std::make_shared<const LoadedModel>(std::move(*loaded));
    EngineOptions o;
    o.threads = 1;
    o.page_size = 4;
    o.num_pages = 64;
    o.prefill_chunk = 8;  // the needed rows span several chunks
    auto engine = internal::open_engine(o, {.model = model});
    REQUIRE(engine.ok());
    auto refs = read_reference(dir);
    REQUIRE(!refs.empty());
    std::vector<int32_t> context = refs[0].prompt;
    context.insert(context.end(), refs[0].greedy.begin(), refs[0].greedy.end());
    // Warm the cache with the whole context, then ask for logprobs of its tail: the tail must be
    // computed again (not served from the cache), the head may come from the cache.
    GenerationOptions warm;
    warm.max_tokens = 1;
    warm.temperature = 0.0f;
    REQUIRE((*engine)->generate(context, warm).ok());
    for (size_t from : {size_t{1}, context.size() / 2, context.size() - 1}) {
      CAPTURE(from);
      GenerationOptions s = warm;
      s.prompt_logprobs_from = static_cast<int32_t>(from);
      auto out = (*engine)->generate(context, s);
      REQUIRE(out.ok());
      auto expect = one_by_one_logprobs(model, context, from);
      REQUIRE(out->prompt_logprobs.size() == context.size() - from);
      REQUIRE(expect.size() == out->prompt_logprobs.size());
      for (size_t i = 0; i < expect.size(); ++i) {
        CAPTURE(i);
        CHECK(out->prompt_logprobs[i] == doctest::Approx(expect[i]).epsilon(1e-3));
      }
      // Everything before the first needed row came from the cache.
      CHECK(out->cached_tokens == static_cast<int32_t>(from) - 1);
    }
  }
}

}  // namespace
}  // namespace stemma
