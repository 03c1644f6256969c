// The texts of the shipped FAQ model's format (tools/train/faq_format.py; docs/demo-model.md
// "Prompt format"): its system prompt, the escalation reply, the tool-call markers, and Python
// json.dumps-style JSON for replies and tool results. The conversation itself (system, user,
// context, assistant and tool messages) is rendered by the model's chat template through the
// SDK's Runtime, and the context block is sdk/rag's (context_message.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "demos/faq-bot/faq_data.h"
#include "sdk/program/runtime.h"
#include "sdk/rag/context_message.h"

namespace stemma::faqbot {

extern const char* const kSystemPrompt;
extern const char* const kEscalateAnswer;
inline constexpr std::string_view kToolCallOpen = "<tool_call>";
inline constexpr std::string_view kToolCallClose = "</tool_call>";

// A message: system, user, context, assistant or tool.
using Message = program::Message;
using rag::context_block;
using rag::kNoResults;

// A JSON string literal as Python's json.dumps writes it (ensure_ascii: non-ASCII as \uXXXX).
std::string py_json_string(std::string_view utf8, bool ensure_ascii);
// {"k": "v", ...} with json.dumps' default separators; values are pre-rendered JSON.
std::string py_json_object(const std::vector<std::pair<std::string, std::string>>& raw_members);

// The final reply exactly as trained: {"answer": ..., "source_ids": [...], "escalate": ...}.
std::string reply_json(std::string_view answer, const std::vector<std::string>& source_ids,
                       bool escalate);

}  // namespace stemma::faqbot
