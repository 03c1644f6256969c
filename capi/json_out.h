// JSON text for output parameters: never throws on bytes that are not UTF-8 (they become
// U+FFFD), so a stored or generated string cannot turn into an exception at the boundary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace stemma::capi {

inline std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace stemma::capi
