#include "sdk/rag/prompt_assembly.h"

#include "sdk/rag/context_message.h"

#include <algorithm>
#include <set>
#include <utility>

namespace stemma::rag {

std::string source_ref(const RagHit& hit) {
  if (hit.kind == kKindQa && hit.chunk_index == 0) return hit.doc_id;
  return hit.doc_id + "#" + std::to_string(hit.chunk_index);
}

std::string render_hit(const RagHit& hit) {
  std::string out = "[" + source_ref(hit) + "] ";
  if (hit.kind == kKindQa) {
    out += "Q: " + hit.title + "\nA: " + hit.text;
    return out;
  }
  // Markdown heading paths usually begin with the document's own title (its "# " heading).
  std::string where = hit.title;
  if (!hit.title.empty() && hit.heading_path.starts_with(hit.title)) {
    where = hit.heading_path;
  } else if (!hit.heading_path.empty()) {
    if (!where.empty()) where += kHeadingSeparator;
    where += hit.heading_path;
  }
  out += where + "\n" + hit.text;
  return out;
}

namespace {

// Picks hits best-first within the budget, then orders them by (doc id, chunk index).
std::vector<const RagHit*> select_hits(const std::vector<RagHit>& hits, size_t budget) {
  std::vector<const RagHit*> by_score;
  by_score.reserve(hits.size());
  for (const RagHit& hit : hits) by_score.push_back(&hit);
  // Stable, with a total order on ties, so the choice never depends on the input order.
  std::stable_sort(by_score.begin(), by_score.end(), [](const RagHit* a, const RagHit* b) {
    if (a->score != b->score) return a->score > b->score;
    if (a->doc_id != b->doc_id) return a->doc_id < b->doc_id;
    return a->chunk_index < b->chunk_index;
  });
  std::vector<const RagHit*> kept;
  std::set<std::pair<std::string, int64_t>> seen;
  size_t used = 0;
  for (const RagHit* hit : by_score) {
    if (!seen.emplace(hit->doc_id, hit->chunk_index).second) continue;
    size_t size = render_hit(*hit).size() + 2;
    if (budget != 0 && used + size > budget) continue;  // a smaller later hit may still fit
    used += size;
    kept.push_back(hit);
  }
  std::sort(kept.begin(), kept.end(), [](const RagHit* a, const RagHit* b) {
    if (a->doc_id != b->doc_id) return a->doc_id < b->doc_id;
    return a->chunk_index < b->chunk_index;
  });
  return kept;
}

void append_block(std::string* out, const std::string& block) {
  if (block.empty()) return;
  if (!out->empty()) *out += "\n\n";
  *out += block;
}

}  // namespace

AssembledPrompt assemble_prompt(const PromptParts& parts, const PromptAssemblyOptions& options) {
  AssembledPrompt prompt;
  std::string retrieved;
  for (const RagHit* hit : select_hits(parts.retrieved, options.max_retrieved_chars)) {
    append_block(&retrieved, render_hit(*hit));
    prompt.source_refs.push_back(source_ref(*hit));
  }
  // (A context message is the header itself: its role names the material.)
  if (!retrieved.empty() && !options.retrieved_header.empty() &&
      options.placement != RetrievedPlacement::kContextMessage) {
    retrieved = options.retrieved_header + "\n\n" + retrieved;
  }

  std::string system;
  append_block(&system, parts.system_prompt);
  append_block(&system, parts.stable_context);
  if (options.placement == RetrievedPlacement::kBeforeHistory) append_block(&system, retrieved);
  if (!system.empty()) prompt.messages.push_back({"system", std::move(system)});

  for (const PromptMessage& message : parts.history) prompt.messages.push_back(message);

  std::string question;
  if (options.placement == RetrievedPlacement::kAfterHistory) append_block(&question, retrieved);
  append_block(&question, parts.question);
  prompt.messages.push_back({"user", std::move(question)});
  if (options.placement == RetrievedPlacement::kContextMessage) {
    if (retrieved.empty()) retrieved = std::string(kNoResults);
    prompt.messages.push_back({std::string(kContextRole), std::move(retrieved)});
  }
  return prompt;
}

}  // namespace stemma::rag
