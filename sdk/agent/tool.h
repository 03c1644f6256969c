// A tool an agent may call: a name, a description for the model, a JSON Schema for its
// arguments, and the function that runs it.
#pragma once

#include <functional>
#include <string>

#include "engine/api/status.h"

namespace stemma::agent {

// Called with the arguments as JSON text, valid under the tool's schema. Its result (text or
// JSON) goes back to the model as the tool message; an error ends the agent's run with it.
// Runs on the thread that called Agent::run.
using ToolFn = std::function<Result<std::string>(const std::string& arguments_json)>;

struct Tool {
  std::string name;               // 1-64 characters of [A-Za-z0-9_-]
  std::string description;        // what it does, for the model
  std::string parameters_schema;  // JSON Schema of the arguments (an object schema, usually)
  ToolFn fn;
};

// Checks the name, that a function is set and that the schema parses as a JSON object.
Status validate_tool(const Tool& tool);

}  // namespace stemma::agent
