#include "sdk/agent/tool_prompt.h"

namespace stemma::agent {

nlohmann::ordered_json tools_json(const std::vector<Tool>& tools) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Tool& t : tools) {
    nlohmann::ordered_json params =
        nlohmann::ordered_json::parse(t.parameters_schema, nullptr, /*allow_exceptions=*/false);
    if (params.is_discarded()) params = nlohmann::ordered_json::object();
    out.push_back(
        {{"type", "function"},
         {"function", {{"name", t.name}, {"description", t.description}, {"parameters", params}}}});
  }
  return out;
}

std::string default_system_prompt(const std::vector<Tool>& tools, ToolChoice choice,
                                  bool list_tools) {
  if (choice == ToolChoice::kNone || tools.empty()) return "You are a helpful assistant.";
  std::string s =
      "You are a helpful assistant that can call tools. To call a tool, reply with only "
      "<tool_call>{\"name\": \"<tool name>\", \"arguments\": <the arguments as a JSON "
      "object>}</tool_call>; its result comes back in a tool message.";
  if (choice == ToolChoice::kAuto) {
    s += " When you can answer, reply with the answer and no tool call.";
  }
  if (list_tools) {
    s += "\n\nTools:";
    for (const Tool& t : tools) {
      nlohmann::ordered_json params =
          nlohmann::ordered_json::parse(t.parameters_schema, nullptr, /*allow_exceptions=*/false);
      s += "\n- " + t.name + ": " + t.description +
           " Arguments (JSON Schema): " + (params.is_discarded() ? "{}" : params.dump());
    }
  }
  return s;
}

}  // namespace stemma::agent
