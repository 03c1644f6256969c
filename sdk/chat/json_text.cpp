#include "sdk/chat/json_text.h"

#include <nlohmann/json.hpp>

namespace stemma::sqlite {

Result<std::string> normalize_json_object(std::string_view text, std::string_view what,
                                          std::string_view empty_value) {
  if (text.empty()) return std::string(empty_value);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return InvalidArgument(std::string(what) +
                           " is not valid JSON: " + std::string(text.substr(0, 60)));
  }
  if (!value.is_object()) {
    return InvalidArgument(std::string(what) + " must be a JSON object, got " + value.type_name());
  }
  // Invalid UTF-8 inside strings is replaced rather than thrown on: no exception may escape.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stemma::sqlite
