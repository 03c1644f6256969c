#include "sdk/agent/tool.h"

#include <nlohmann/json.hpp>

namespace stemma::agent {

Status validate_tool(const Tool& tool) {
  if (tool.name.empty() || tool.name.size() > 64) {
    return InvalidArgument("tool name \"" + tool.name + "\": must be 1-64 characters");
  }
  for (char c : tool.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument("tool name \"" + tool.name +
                             "\": only letters, digits, '_' and '-' are allowed");
    }
  }
  if (!tool.fn) return InvalidArgument("tool \"" + tool.name + "\": no function");
  auto schema = nlohmann::json::parse(tool.parameters_schema, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) {
    return InvalidArgument("tool \"" + tool.name + "\": the parameters schema is not JSON");
  }
  if (!schema.is_object()) {
    return InvalidArgument("tool \"" + tool.name +
                           "\": the parameters schema must be a JSON object");
  }
  return OkStatus();
}

}  // namespace stemma::agent
