// What the model is told about the tools: a generic system prompt that lists them (for
// templates without tool support), and the tool definitions in the OpenAI function format that
// templates with tool support (`tools` in the template) render themselves.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdk/agent/tool.h"
#include "sdk/agent/tool_call_format.h"

namespace stemma::agent {

// [{"type": "function", "function": {"name", "description", "parameters"}}, ...]
nlohmann::ordered_json tools_json(const std::vector<Tool>& tools);

// The default system prompt. `list_tools`: describe each tool and its schema in the text (false
// when the template renders the tool definitions itself).
std::string default_system_prompt(const std::vector<Tool>& tools, ToolChoice choice,
                                  bool list_tools);

}  // namespace stemma::agent
