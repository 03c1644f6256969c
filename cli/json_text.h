// The CLI's JSON output. nlohmann::json throws on a string that is not UTF-8 (a path, a GGUF
// string, text decoded from token ids), which aborted the process: every dump goes through
// here, where such bytes become U+FFFD.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace stemma::cli {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stemma::cli
