// The constraint every assistant turn is generated under: either the final reply
//   {"answer": "<string>", "source_ids": [], "escalate": true|false}
//   {"answer": "<string>", "source_ids": ["<id>"(, "<id>")*], "escalate": false}
// with the ids limited to the entries retrieved for this turn, or (when tools are allowed) a
// tool call in the trained form
//   <tool_call>{"name": "lookup_order", "arguments": {"order_id": "<string>"}}</tool_call>
//   <tool_call>{"name": "create_ticket", "arguments": {"summary": "<string>"}}</tool_call>
//
// With the customer's message (`user_text`), the tool arguments are pinned to it: the
// create_ticket summary is a span of the message's words (its last word with or without its
// trailing punctuation), and the lookup_order id is one of the message's order numbers
// (LM- and 6 digits). The model was trained to copy them (docs/demo-model.md); the constraint
// keeps it from writing a problem it remembers instead. A message with characters that JSON
// escapes (quotes, backslashes, control or non-ASCII bytes), more than kMaxSummaryWords words or
// no order number leaves that argument a free JSON string.
//
// The engine compiles the regex (GenerationOptions::regex) and caches it by its text.
//
// The regex is written out rather than derived from a JSON Schema because the model was trained
// on json.dumps' exact spacing and key order: every text it allows is valid JSON of the reply
// schema (kReplySchema), but it also pins the layout the model knows, which a generic schema
// translation (optional whitespace, any key order of optional members) would leave open.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace stemma::faqbot {

// The JSON Schema the final reply satisfies (for documentation and validation).
extern const char* const kReplySchema;

std::string reply_regex(const std::vector<std::string>& allowed_ids, bool allow_tool_call,
                        std::string_view user_text = {});

inline constexpr size_t kMaxSummaryWords = 48;

}  // namespace stemma::faqbot
