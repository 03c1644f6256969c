// Tools for the agent tests, and the record of every call they receive: each call's arguments
// are written (with the tool's schema) for an independent check by Python's jsonschema
// (tools/constrain/validate_outputs.py, the sdk_agent_*_validate ctests).
#pragma once

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdk/agent/agent.h"

namespace stemma::agent::testing {

struct CallLog {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> calls;  // tool name, arguments
};

inline std::string schemas_dir() {
  return std::string(STEMMA_BUILD_DIR) + "/sdk_agent_schemas";
}

// Writes each tool's schema as <dir>/<suite>.<tool>.json and the logged calls as
// {"schema": "<suite>.<tool>.json", "output": arguments} lines to sdk_agent_calls_<suite>.jsonl.
inline void write_calls(const std::vector<Tool>& tools, CallLog& log, const std::string& suite) {
  std::filesystem::create_directories(schemas_dir());
  for (const Tool& t : tools) {
    std::ofstream(schemas_dir() + "/" + suite + "." + t.name + ".json") << t.parameters_schema;
  }
  std::ofstream out(std::string(STEMMA_BUILD_DIR) + "/sdk_agent_calls_" + suite + ".jsonl");
  std::lock_guard<std::mutex> lock(log.mu);
  for (const auto& [name, args] : log.calls) {
    out << nlohmann::json{{"schema", suite + "." + name + ".json"}, {"output", args}}.dump()
        << "\n";
  }
}

inline ToolFn logged(CallLog* log, const std::string& name,
                     std::function<std::string(const nlohmann::json&)> result) {
  return [log, name, result](const std::string& args) -> Result<std::string> {
    {
      std::lock_guard<std::mutex> lock(log->mu);
      log->calls.emplace_back(name, args);
    }
    auto j = nlohmann::json::parse(args, nullptr, false);
    if (j.is_discarded()) return InvalidArgument("arguments are not JSON: " + args);
    return result(j);
  };
}

}  // namespace stemma::agent::testing
