// The prompt format of the shipped FAQ model, byte for byte as trained
// (tools/train/faq_format.py; docs/demo-model.md "Prompt format"): a ChatML-style rendering of
// system, user, context, assistant and tool messages, the context block built from retrieved
// FAQ entries, and Python json.dumps-style JSON for replies and tool results.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "demos/faq-bot/faq_data.h"

namespace stemma::faqbot {

extern const char* const kSystemPrompt;
extern const char* const kEscalateAnswer;
inline constexpr std::string_view kNoResults = "(no results)";
inline constexpr std::string_view kToolCallOpen = "<tool_call>";
inline constexpr std::string_view kToolCallClose = "</tool_call>";

struct Message {
  std::string role;  // system, user, context, assistant, tool
  std::string content;
};

// <|im_start|>role\ncontent<|im_end|>\n per message, then <|im_start|>assistant\n when asked.
// No BOS: the tokenizer adds it.
std::string render_chat(const std::vector<Message>& messages, bool add_generation_prompt);

// "[id] title\nQ: question\nA: answer" per entry, blank line between; "(no results)" if none.
std::string context_block(const std::vector<const FaqEntry*>& entries);

// A JSON string literal as Python's json.dumps writes it (ensure_ascii: non-ASCII as \uXXXX).
std::string py_json_string(std::string_view utf8, bool ensure_ascii);
// {"k": "v", ...} with json.dumps' default separators; values are pre-rendered JSON.
std::string py_json_object(const std::vector<std::pair<std::string, std::string>>& raw_members);

// The final reply exactly as trained: {"answer": ..., "source_ids": [...], "escalate": ...}.
std::string reply_json(std::string_view answer, const std::vector<std::string>& source_ids,
                       bool escalate);

}  // namespace stemma::faqbot
