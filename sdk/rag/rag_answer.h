// Retrieval-augmented answers: retrieve from a RagStore, assemble the prompt with the stable
// parts first (prompt_assembly.h, so questions that retrieve the same chunks share the prefix
// in the radix cache), render it with the model's chat template and generate the answer.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "sdk/program/gen_options.h"
#include "sdk/program/runtime.h"
#include "sdk/rag/prompt_assembly.h"
#include "sdk/rag/rag_store.h"

namespace stemma::rag {

inline constexpr const char* kDefaultRagSystemPrompt =
    "You answer questions using only the reference material below. Cite the sources you use by "
    "their tags in square brackets, e.g. [faq-042]. If the material does not answer the "
    "question, say that you do not know.";

struct RagAnswerOptions {
  std::string system_prompt = kDefaultRagSystemPrompt;
  std::string stable_context;  // instructions or facts identical for every question
  SearchOptions search;        // top_k, kind, doc_id_prefix, ...
  PromptAssemblyOptions assembly;
  GenerationOptions gen;
};

struct RagAnswer {
  std::string text;
  // The sources written into the prompt, in prompt order ("faq-042", "manual/setup#3").
  std::vector<std::string> source_refs;
  std::vector<RagHit> hits;                   // what search returned, best first
  FinishReason finish = FinishReason::kNone;  // kCancelled: the stream callback cancelled
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // of the prompt, served from the radix cache
  int64_t generated_tokens = 0;
};

// The prompt text the answer is generated from (rendered with add_generation_prompt).
Result<std::string> rag_prompt(RagStore& store, const program::Runtime& runtime,
                               std::string_view question, const RagAnswerOptions& options,
                               const std::vector<PromptMessage>& history = {},
                               AssembledPrompt* assembled = nullptr,
                               std::vector<RagHit>* hits = nullptr);

// Retrieves for `question`, assembles and renders the prompt, and generates the answer.
// `history` (earlier turns) goes between the retrieved block and the question.
Result<RagAnswer> rag_answer(RagStore& store, const program::Runtime& runtime,
                             std::string_view question, const RagAnswerOptions& options = {},
                             const program::TextCallback& stream = {},
                             const std::vector<PromptMessage>& history = {});

}  // namespace stemma::rag
