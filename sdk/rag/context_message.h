// The context message: retrieved material as a message of its own, with role "context", right
// after the user's question: [system] [history] [user: question] [context: block]. It is the
// prompt shape the shipped FAQ model was trained on (docs/demo-model.md, "Prompt format"), so a
// program that answers from retrieved FAQ entries gets the model's trained behaviour by
// building its turn this way (the FAQ demo does; rag_answer does with
// RetrievedPlacement::kContextMessage). The model's chat template renders the role like any
// other ("<|im_start|>context\n...<|im_end|>\n" for ChatML).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sdk/rag/faq_entry.h"

namespace stemma::rag {

inline constexpr std::string_view kContextRole = "context";
// The block when retrieval found nothing.
inline constexpr std::string_view kNoResults = "(no results)";

// The block for FAQ entries, best first: "[id] title\nQ: question\nA: answer" per entry, a
// blank line between them; kNoResults when there are none.
std::string context_block(const std::vector<const FaqEntry*>& entries);

}  // namespace stemma::rag
