// What the model said in one assistant turn: a final JSON reply, a tool call, or something that
// does not parse (only possible without the constraint, or when generation was cut off).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "demos/faq-bot/faq_data.h"

namespace stemma::faqbot {

struct ParsedReply {
  enum class Kind { kInvalid, kAnswer, kToolCall };
  Kind kind = Kind::kInvalid;
  std::string error;  // kInvalid: why
  // kAnswer
  std::string answer;
  std::vector<std::string> source_ids;
  bool escalate = false;
  // kToolCall
  std::string tool_name;
  std::string tool_arguments_json;  // the arguments object (nlohmann dump)
};

// Parses an assistant turn's text (without <|im_end|>). A JSON reply must be an object with
// exactly "answer" (string), "source_ids" (array of strings) and "escalate" (boolean); a tool
// call is <tool_call>{"name": string, "arguments": object}</tool_call>.
ParsedReply parse_reply(std::string_view text);

// The grounding check of docs/demo-model.md: a non-escalated answer is accepted only if it cites
// exactly one entry, that entry was retrieved for this turn, and the answer is that entry's
// answer verbatim. Escalations and tool calls pass through.
bool is_grounded(const ParsedReply& reply, const std::vector<const FaqEntry*>& retrieved);

}  // namespace stemma::faqbot
