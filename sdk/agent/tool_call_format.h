// The tool-call format of an agent's model turns (Hermes / Qwen style, json.dumps spacing):
//
//   <tool_call>{"name": "lookup_order", "arguments": {"order_id": "LM-123456"}}</tool_call>
//
// and the regex each turn is generated under: one of the registered tools' calls with arguments
// valid under that tool's JSON Schema, or the final answer (free text that does not start with
// "<tool_call>", or JSON valid under an answer schema). Because the model can only write texts
// of this language, every tool call it makes parses and validates.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "sdk/agent/tool.h"

namespace stemma::agent {

inline constexpr std::string_view kToolCallOpen = "<tool_call>";
inline constexpr std::string_view kToolCallClose = "</tool_call>";

enum class ToolChoice {
  kAuto,      // a tool call or the answer
  kRequired,  // always a tool call (the run ends only at the step limit)
  kNone,      // always the answer
};

struct TurnFormat {
  ToolChoice choice = ToolChoice::kAuto;
  std::string answer_schema;  // "": free text
  int json_whitespace = 1;    // in arguments / answer JSON: up to this many spaces or newlines
                              // around , : { } [ ] (1 admits json.dumps spacing)
};

// The regex of one model turn. Fails when a schema uses keywords the constraint cannot enforce
// (named), or when no alternative is left (kRequired with no tools).
Result<std::string> turn_regex(const std::vector<Tool>& tools, const TurnFormat& format);

// The regex of the texts that do not start with `literal` (non-empty texts only).
std::string not_starting_with_regex(std::string_view literal);

struct ParsedTurn {
  enum class Kind { kToolCall, kAnswer };
  Kind kind = Kind::kAnswer;
  std::string name;       // tool call: the tool
  std::string arguments;  // tool call: the arguments' JSON text as written
  std::string answer;     // answer: the text
};

// Reads a turn generated under turn_regex. A text starting with "<tool_call>" must be a whole
// call of a registered tool with JSON arguments (else InvalidArgument says what is wrong, e.g.
// a turn cut off by max_tokens).
Result<ParsedTurn> parse_turn(std::string_view text, const std::vector<Tool>& tools);

// {"name": ..., "arguments": ...} exactly as the format writes it (the assistant message of a
// call).
std::string tool_call_text(std::string_view name, std::string_view arguments_json);

}  // namespace stemma::agent
