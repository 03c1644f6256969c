// The Engine on real (tiny) models through the CPU executor, checked against HF transformers:
// tests/fixtures/models/<arch>/reference.json holds HF's greedy continuations. Requests that
// resume those continuations at many points share long prefixes, so the radix cache, copy-on-
// write of partial pages and eviction are all exercised; every request must still produce HF's
// tokens, with the cache on and off.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/engine.h"

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
      SamplingOptions s;
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

}  // namespace
}  // namespace stemma
