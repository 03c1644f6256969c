// Prompt assembly for retrieval-augmented chat, ordered so that requests share prefixes.
//
// The engine keeps a radix tree over token ids: a request whose prompt begins with tokens some
// earlier request already computed reuses that KV cache and only prefills the rest. So a prompt
// should be laid out from the most stable part to the most variable one:
//
//   [system prompt][stable context]     same for every request of the application
//   [retrieved chunks]                  same for every question that retrieves the same chunks
//   [history]                           same for every later turn of this conversation
//   [question]                          new every time
//
// The retrieved chunks are chosen by score but written in a deterministic order (by document id,
// then chunk index), and rendered without scores, so two questions that retrieve the same set
// get byte-identical, hence token-identical, blocks even when their scores order them differently.
// (Ordering by score would make "A, B" and "B, A" two different prefixes.)
//
// Placement: kBeforeHistory (the default) puts the retrieved block in the system message, which
// maximizes sharing ACROSS users who ask about the same topic (an FAQ bot: mostly one-turn
// conversations). kAfterHistory puts it in the last user message instead, which keeps a long
// conversation's history cached across turns even when each turn retrieves different chunks.
// Both keep roles alternating (system, then user/assistant pairs), which many chat templates
// require. kContextMessage puts it in a message of its own, with role "context", right after the
// question: the shape the shipped FAQ model was trained on (context_message.h), for templates
// and models that know that role.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sdk/rag/rag_store.h"

namespace stemma::rag {

struct PromptMessage {
  std::string role;  // "system", "user", "assistant", ...
  std::string content;
};

enum class RetrievedPlacement { kBeforeHistory, kAfterHistory, kContextMessage };

struct PromptParts {
  std::string system_prompt;
  std::string stable_context;     // instructions, product facts, ... identical across requests
  std::vector<RagHit> retrieved;  // in any order; best first is what search() returns
  std::vector<PromptMessage> history;
  std::string question;
};

struct PromptAssemblyOptions {
  RetrievedPlacement placement = RetrievedPlacement::kBeforeHistory;
  // Budget for the retrieved block: hits are taken best-score first until the next would not
  // fit, then the kept ones are ordered deterministically. 0 = no limit.
  size_t max_retrieved_chars = 6000;
  std::string retrieved_header = "Reference material:";
};

struct AssembledPrompt {
  std::vector<PromptMessage> messages;  // ready for the model's chat template
  // The sources in the order written: "faq-042", or "manual#3" for chunk 3 of a document.
  std::vector<std::string> source_refs;
};

// A hit's citation tag: the doc id for a QA record (its first chunk), else "doc_id#chunk_index".
std::string source_ref(const RagHit& hit);

// One hit as written into the prompt ("[faq-042] Q: ...\nA: ..." or "[ref] Title > Heading\n...").
std::string render_hit(const RagHit& hit);

AssembledPrompt assemble_prompt(const PromptParts& parts,
                                const PromptAssemblyOptions& options = {});

}  // namespace stemma::rag
