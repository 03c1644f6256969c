#include "sdk/agent/tool_call_format.h"

#include <nlohmann/json.hpp>

#include "engine/api/constraint_text.h"

namespace stemma::agent {
namespace {

std::string call_head(std::string_view name) {
  return std::string(kToolCallOpen) + "{\"name\": \"" + std::string(name) + "\", \"arguments\": ";
}

constexpr std::string_view kCallTail = "}";

Result<std::string> schema_regex(const std::string& schema, int whitespace,
                                 const std::string& what) {
  // Spliced into one regex: json_schema_regex unrolls recursion (no grammar rules).
  auto r = json_schema_regex(schema, whitespace);
  if (!r.ok()) return r.status().with_context(what);
  return r;
}

// One character class that matches any code point except `c` (an ASCII character).
std::string any_but(char c) {
  std::string cls = "[^";
  if (c == ']' || c == '\\' || c == '^' || c == '-' || c == '[') cls += '\\';
  cls += c;
  cls += ']';
  return cls;
}

}  // namespace

std::string not_starting_with_regex(std::string_view literal) {
  // A text does not start with L when it is a non-empty proper prefix of L, or when it agrees
  // with L on i characters and then has another one (then anything).
  std::string out = "(?:";
  for (size_t i = 0; i < literal.size(); ++i) {
    if (i > 0) out += '|';
    out += regex_escape(literal.substr(0, i)) + any_but(literal[i]) + "[\\s\\S]*";
  }
  for (size_t i = 1; i < literal.size(); ++i) {
    out += '|' + regex_escape(literal.substr(0, i));
  }
  out += ')';
  return out;
}

std::string tool_call_text(std::string_view name, std::string_view arguments_json) {
  return call_head(name) + std::string(arguments_json) + std::string(kCallTail) +
         std::string(kToolCallClose);
}

Result<std::string> turn_regex(const std::vector<Tool>& tools, const TurnFormat& format) {
  std::vector<std::string> alts;
  if (format.choice != ToolChoice::kNone) {
    for (const Tool& t : tools) {
      STEMMA_ASSIGN_OR_RETURN(std::string args,
                              schema_regex(t.parameters_schema, format.json_whitespace,
                                           "tool \"" + t.name + "\" parameters schema"));
      alts.push_back(regex_escape(call_head(t.name)) + "(?:" + args + ")" +
                     regex_escape(std::string(kCallTail) + std::string(kToolCallClose)));
    }
    if (format.choice == ToolChoice::kRequired && alts.empty()) {
      return FailedPrecondition("tool_choice is required but no tool is registered");
    }
  }
  if (format.choice != ToolChoice::kRequired) {
    if (format.answer_schema.empty()) {
      alts.push_back(not_starting_with_regex(kToolCallOpen));
    } else {
      STEMMA_ASSIGN_OR_RETURN(std::string a, schema_regex(format.answer_schema,
                                                          format.json_whitespace, "answer schema"));
      alts.push_back(a);
    }
  }
  std::string out = "(?:";
  for (size_t i = 0; i < alts.size(); ++i) {
    if (i > 0) out += '|';
    out += "(?:" + alts[i] + ")";
  }
  return out + ")";
}

Result<ParsedTurn> parse_turn(std::string_view text, const std::vector<Tool>& tools) {
  ParsedTurn p;
  if (text.substr(0, kToolCallOpen.size()) != kToolCallOpen) {
    p.kind = ParsedTurn::Kind::kAnswer;
    p.answer = std::string(text);
    return p;
  }
  if (text.size() < kToolCallOpen.size() + kToolCallClose.size() ||
      text.substr(text.size() - kToolCallClose.size()) != kToolCallClose) {
    return InvalidArgument("the tool call does not end with " + std::string(kToolCallClose) +
                           " (was the turn cut off by max_tokens?)");
  }
  const std::string_view body =
      text.substr(kToolCallOpen.size(), text.size() - kToolCallOpen.size() - kToolCallClose.size());
  auto call = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (call.is_discarded() || !call.is_object()) {
    return InvalidArgument("the tool call is not a JSON object: " + std::string(body));
  }
  if (!call.contains("name") || !call["name"].is_string()) {
    return InvalidArgument("the tool call has no \"name\" string");
  }
  if (!call.contains("arguments")) return InvalidArgument("the tool call has no \"arguments\"");
  p.kind = ParsedTurn::Kind::kToolCall;
  p.name = call["name"].get<std::string>();
  bool known = false;
  for (const Tool& t : tools) known = known || t.name == p.name;
  if (!known) return InvalidArgument("the tool call names no registered tool: " + p.name);
  // The arguments exactly as written, when the call has the format's layout; else re-dumped.
  const std::string head = call_head(p.name).substr(kToolCallOpen.size());
  if (body.substr(0, head.size()) == head && body.size() > head.size() + kCallTail.size() &&
      body.substr(body.size() - kCallTail.size()) == kCallTail) {
    p.arguments =
        std::string(body.substr(head.size(), body.size() - head.size() - kCallTail.size()));
  } else {
    p.arguments = call["arguments"].dump();
  }
  return p;
}

}  // namespace stemma::agent
