// Prompt assembly: stable parts first, retrieved chunks in an order that does not depend on
// their scores, a budget that keeps the best, and both placements.
#include "sdk/rag/prompt_assembly.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "sdk/rag/context_message.h"

namespace stemma::rag {
namespace {

RagHit hit(std::string doc, int64_t chunk, double score, std::string kind = "markdown") {
  RagHit h;
  h.doc_id = std::move(doc);
  h.chunk_index = chunk;
  h.score = score;
  h.kind = std::move(kind);
  h.title = h.kind == "qa" ? "Question about " + h.doc_id + "?" : "Manual";
  h.heading_path = h.kind == "qa" ? "General" : "Manual > Part " + std::to_string(chunk);
  h.text = "Body of " + h.doc_id + " chunk " + std::to_string(chunk) + ".";
  return h;
}

PromptParts base_parts() {
  PromptParts parts;
  parts.system_prompt = "You answer questions about the Aurora X2 router.";
  parts.stable_context = "Cite sources as [id].";
  parts.history = {{"user", "Hi"}, {"assistant", "Hello! How can I help?"}};
  parts.question = "How do I reset it?";
  return parts;
}

TEST_CASE("prompt: the same retrieved set gives byte-identical prompts in any score order") {
  PromptParts a = base_parts();
  a.retrieved = {hit("manual/b", 2, 9.0), hit("faq-007", 0, 7.5, "qa"), hit("manual/a", 4, 3.0)};
  PromptParts b = base_parts();
  // Same chunks, different scores and input order (another question retrieved them).
  b.retrieved = {hit("manual/a", 4, 8.0), hit("manual/b", 2, 1.0), hit("faq-007", 0, 4.0, "qa")};
  AssembledPrompt pa = assemble_prompt(a);
  AssembledPrompt pb = assemble_prompt(b);
  REQUIRE(pa.messages.size() == pb.messages.size());
  for (size_t i = 0; i < pa.messages.size(); ++i) {
    CHECK(pa.messages[i].role == pb.messages[i].role);
    CHECK(pa.messages[i].content == pb.messages[i].content);
  }
  CHECK(pa.source_refs == std::vector<std::string>{"faq-007", "manual/a#4", "manual/b#2"});
  CHECK(pa.source_refs == pb.source_refs);
}

TEST_CASE("prompt: stable parts first, then retrieved, then history, then the question") {
  PromptParts parts = base_parts();
  parts.retrieved = {hit("faq-007", 0, 7.5, "qa")};
  AssembledPrompt p = assemble_prompt(parts);
  REQUIRE(p.messages.size() == 4);
  CHECK(p.messages[0].role == "system");
  const std::string& sys = p.messages[0].content;
  size_t s1 = sys.find(parts.system_prompt);
  size_t s2 = sys.find(parts.stable_context);
  size_t s3 = sys.find("[faq-007] Q: Question about faq-007?\nA: Body of faq-007 chunk 0.");
  CHECK(s1 == 0);
  CHECK(s2 > s1);
  CHECK(s3 != std::string::npos);
  CHECK(s3 > s2);
  CHECK(p.messages[1].content == "Hi");
  CHECK(p.messages[2].role == "assistant");
  CHECK(p.messages[3].role == "user");
  CHECK(p.messages[3].content == parts.question);

  // Without retrieval the system message is exactly the stable prefix of the one above.
  PromptParts none = base_parts();
  AssembledPrompt q = assemble_prompt(none);
  CHECK(sys.starts_with(q.messages[0].content));
  CHECK(q.source_refs.empty());
}

TEST_CASE("prompt: after-history placement keeps the system message and history stable") {
  PromptParts parts = base_parts();
  parts.retrieved = {hit("manual/a", 1, 2.0)};
  PromptAssemblyOptions options;
  options.placement = RetrievedPlacement::kAfterHistory;
  AssembledPrompt p = assemble_prompt(parts, options);
  AssembledPrompt plain = assemble_prompt(base_parts(), options);
  REQUIRE(p.messages.size() == 4);
  CHECK(p.messages[0].content == plain.messages[0].content);
  CHECK(p.messages[3].content.find("[manual/a#1] Manual > Part 1\nBody of manual/a chunk 1.") ==
        p.messages[3].content.find("[manual/a#1]"));
  CHECK(p.messages[3].content.ends_with("\n\n" + parts.question));
}

TEST_CASE("prompt: the budget keeps the best-scoring hits, duplicates count once") {
  PromptParts parts = base_parts();
  parts.retrieved = {hit("z-low", 0, 1.0), hit("a-high", 0, 9.0), hit("m-mid", 0, 5.0),
                     hit("a-high", 0, 9.0)};
  // Room for exactly the two best (each costs its rendering plus a blank-line separator).
  PromptAssemblyOptions options;
  options.max_retrieved_chars =
      render_hit(parts.retrieved[1]).size() + 2 + render_hit(parts.retrieved[2]).size() + 2;
  AssembledPrompt p = assemble_prompt(parts, options);
  CHECK(p.source_refs == std::vector<std::string>{"a-high#0", "m-mid#0"});
  options.max_retrieved_chars = 0;
  CHECK(assemble_prompt(parts, options).source_refs.size() == 3);
}

TEST_CASE("prompt: the context-message placement is the FAQ model's trained shape") {
  PromptParts parts = base_parts();
  parts.retrieved = {hit("manual/a", 1, 2.0)};
  PromptAssemblyOptions options;
  options.placement = RetrievedPlacement::kContextMessage;
  AssembledPrompt p = assemble_prompt(parts, options);
  AssembledPrompt plain = assemble_prompt(base_parts(), options);
  // system, history, the question alone, then the retrieved block as a message of its own.
  REQUIRE(p.messages.size() == 5);
  CHECK(p.messages[0].content == plain.messages[0].content);
  CHECK(p.messages[3].role == "user");
  CHECK(p.messages[3].content == parts.question);
  CHECK(p.messages[4].role == "context");
  CHECK(p.messages[4].content == render_hit(parts.retrieved[0]));  // no header: the role says it
  // Nothing retrieved: the block says so, as in training.
  REQUIRE(plain.messages.size() == 5);
  CHECK(plain.messages[4].content == "(no results)");
}

TEST_CASE("context block: FAQ entries as the FAQ model was trained on them") {
  FaqEntry a{"faq-001", "Resetting the hub", "How do I reset my hub?", "Hold the button.", "", "",
             ""};
  FaqEntry b{"faq-015", "Hub range", "How far does the hub reach?", "15 meters.", "", "", ""};
  CHECK(context_block({&a, &b}) ==
        "[faq-001] Resetting the hub\nQ: How do I reset my hub?\nA: Hold the button.\n\n"
        "[faq-015] Hub range\nQ: How far does the hub reach?\nA: 15 meters.");
  CHECK(context_block({}) == "(no results)");
}

}  // namespace
}  // namespace stemma::rag
