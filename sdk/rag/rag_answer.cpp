#include "sdk/rag/rag_answer.h"

#include "sdk/program/generate.h"

namespace stemma::rag {

Result<std::string> rag_prompt(RagStore& store, const program::Runtime& runtime,
                               std::string_view question, const RagAnswerOptions& options,
                               const std::vector<PromptMessage>& history,
                               AssembledPrompt* assembled, std::vector<RagHit>* hits) {
  if (question.empty()) return InvalidArgument("rag answer: the question is empty");
  STEMMA_ASSIGN_OR_RETURN(std::vector<RagHit> found, store.search(question, options.search));
  PromptParts parts;
  parts.system_prompt = options.system_prompt;
  parts.stable_context = options.stable_context;
  parts.retrieved = found;
  parts.history = history;
  parts.question = std::string(question);
  AssembledPrompt a = assemble_prompt(parts, options.assembly);
  std::vector<program::Message> messages;
  messages.reserve(a.messages.size());
  for (const PromptMessage& m : a.messages) messages.push_back({m.role, m.content});
  auto text = runtime.render_chat(messages, nullptr, /*add_generation_prompt=*/true);
  if (!text.ok()) return text.status().with_context("rag answer: rendering the prompt");
  if (assembled != nullptr) *assembled = std::move(a);
  if (hits != nullptr) *hits = std::move(found);
  return text;
}

Result<RagAnswer> rag_answer(RagStore& store, const program::Runtime& runtime,
                             std::string_view question, const RagAnswerOptions& options,
                             const program::TextCallback& stream,
                             const std::vector<PromptMessage>& history) {
  RagAnswer r;
  AssembledPrompt assembled;
  STEMMA_ASSIGN_OR_RETURN(std::string text, rag_prompt(store, runtime, question, options, history,
                                                       &assembled, &r.hits));
  STEMMA_ASSIGN_OR_RETURN(
      program::Generated g,
      program::generate(runtime, runtime.encode_prompt(text), options.gen, stream));
  r.text = std::move(g.text);
  r.source_refs = std::move(assembled.source_refs);
  r.finish = g.finish;
  r.prompt_tokens = g.prompt_tokens;
  r.cached_tokens = g.cached_tokens;
  r.generated_tokens = g.generated_tokens;
  return r;
}

}  // namespace stemma::rag
