// RAG answers on the shipped FAQ model over the FAQ as a RagStore: the prompt is laid out stable
// parts first (system, retrieved entries in id order, then the question) and rendered with the
// model's template; two questions that retrieve the same entries share the whole prefix in the
// radix cache; constrained answers parse; streaming; errors.
#include "sdk/rag/rag_answer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/sdk/program/sdk_test_models.h"

namespace stemma::rag {
namespace {

struct Fixture {
  sdktest::TestEngine t;
  std::unique_ptr<RagStore> store;
  Fixture() {
    auto e = sdktest::open_test_engine();
    REQUIRE_MESSAGE(e.ok(), e.status().to_string());
    t = std::move(e).value();
    auto s = RagStore::open(":memory:");
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto faq = nlohmann::json::parse(sdktest::slurp(sdktest::kFaqData));
    auto added = store->add_qa_json(faq["entries"].dump());
    REQUIRE_MESSAGE(added.ok(), added.status().to_string());
    REQUIRE(*added > 100);
  }
};

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

TEST_CASE("the prompt: system, retrieved entries in id order, question last, template rendered") {
  Fixture f;
  RagAnswerOptions o;
  o.search.top_k = 4;
  AssembledPrompt a;
  std::vector<RagHit> hits;
  auto text = rag_prompt(*f.store, *f.t.runtime, "How do I reset my Lumora Hub?", o, {}, &a, &hits);
  REQUIRE_MESSAGE(text.ok(), text.status().to_string());
  REQUIRE(hits.size() == 4);
  REQUIRE(a.source_refs.size() == 4);
  // The retrieved entries are those the search returned, written in id order.
  std::vector<std::string> ids;
  for (const RagHit& h : hits) ids.push_back(h.doc_id);
  std::sort(ids.begin(), ids.end());
  CHECK(a.source_refs == ids);
  // The rendering, as the model's ChatML template writes it.
  auto messages = sdktest::split_chatml(*text);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].role == "system");
  CHECK(messages[0].content.starts_with(kDefaultRagSystemPrompt));
  size_t last = 0;
  for (const std::string& id : ids) {
    const size_t at = messages[0].content.find("[" + id + "] ");
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  CHECK(messages[1].role == "user");
  CHECK(messages[1].content == "How do I reset my Lumora Hub?");
  CHECK(text->ends_with("<|im_start|>assistant\n"));
  CHECK(rag_prompt(*f.store, *f.t.runtime, "", o).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("questions that retrieve the same entries share the prefix in the radix cache") {
  Fixture f;
  RagAnswerOptions o;
  o.search.top_k = 3;
  o.gen.max_tokens = 24;
  const std::string q1 = "How do I reset my Lumora Hub?";
  const std::string q2 = "how do i RESET my lumora hub, please";
  auto p1 = rag_prompt(*f.store, *f.t.runtime, q1, o);
  auto p2 = rag_prompt(*f.store, *f.t.runtime, q2, o);
  REQUIRE(p1.ok());
  REQUIRE(p2.ok());
  const auto t1 = f.t.runtime->encode_prompt(*p1), t2 = f.t.runtime->encode_prompt(*p2);
  const size_t shared = common_prefix(t1, t2);
  REQUIRE(shared > 150);  // system prompt + the same retrieved block
  auto a1 = rag_answer(*f.store, *f.t.runtime, q1, o);
  REQUIRE(a1.ok());
  auto a2 = rag_answer(*f.store, *f.t.runtime, q2, o);
  REQUIRE(a2.ok());
  MESSAGE("prompts " << a1->prompt_tokens << " / " << a2->prompt_tokens << ", shared " << shared
                     << ", second cached " << a2->cached_tokens);
  CHECK(a1->source_refs == a2->source_refs);
  CHECK(a2->prompt_tokens == static_cast<int64_t>(t2.size()));
  CHECK(a2->cached_tokens >= static_cast<int64_t>(shared));
  CHECK(a2->cached_tokens < a2->prompt_tokens);
}

TEST_CASE("a JSON-schema answer parses; streaming adds up to the answer") {
  Fixture f;
  RagAnswerOptions o;
  o.search.top_k = 3;
  o.gen.max_tokens = 160;
  o.gen.json_schema =
      R"({"type": "object", "properties": {"answer": {"type": "string", "maxLength": 200}, "source_ids": {"type": "array", "items": {"type": "string", "pattern": "^faq-[0-9]{3}$"}, "maxItems": 3}}, "required": ["answer", "source_ids"], "additionalProperties": false})";
  o.gen.json_whitespace = 1;
  std::string streamed;
  auto a = rag_answer(*f.store, *f.t.runtime, "Does the doorbell work with Alexa?", o,
                      [&](std::string_view p) {
                        streamed += p;
                        return true;
                      });
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  MESSAGE(a->text);
  CHECK(streamed == a->text);
  CHECK(a->finish == FinishReason::kStopToken);
  auto j = nlohmann::json::parse(a->text, nullptr, false);
  REQUIRE(!j.is_discarded());
  CHECK(j["answer"].is_string());
  CHECK(j["source_ids"].is_array());
  CHECK(!a->hits.empty());
  // A question with no searchable terms retrieves nothing and is still answered.
  RagAnswerOptions plain;
  plain.gen.max_tokens = 8;
  auto none = rag_answer(*f.store, *f.t.runtime, "??? !!!", plain);
  REQUIRE(none.ok());
  CHECK(none->hits.empty());
  CHECK(none->source_refs.empty());
  CHECK(none->generated_tokens > 0);
}

}  // namespace
}  // namespace stemma::rag
