// The demo's stand-ins for a shop backend: lookup_order and create_ticket, deterministic (the
// same order number always has the same status) and returning the result shapes the model was
// trained on (docs/demo-model.md, "Tool call"), as json.dumps text.
#pragma once

#include <string>
#include <vector>

#include "sdk/agent/tool.h"

namespace stemma::faqbot {

struct ToolResult {
  bool known_tool = true;
  std::string result_json;  // the tool message's content
};

// `arguments_json` is the call's arguments object. Unknown tools and bad arguments give an
// {"error": ...} result (the model then escalates), never a failure.
ToolResult run_fake_tool(const std::string& name, const std::string& arguments_json);

// lookup_order and create_ticket as sdk/agent tools (their argument schemas and run_fake_tool),
// what the bot runs a tool call through.
std::vector<agent::Tool> fake_tools();

}  // namespace stemma::faqbot
