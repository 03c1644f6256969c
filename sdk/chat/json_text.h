// Validation of the JSON text that stores accept as metadata and extras.
#pragma once

#include <string>
#include <string_view>

#include "engine/api/status.h"

namespace stemma::sqlite {

// Parses `text` as a JSON object and returns it in compact form; "" yields `empty_value`.
// `what` names the argument in the error ("metadata_json").
Result<std::string> normalize_json_object(std::string_view text, std::string_view what,
                                          std::string_view empty_value);

}  // namespace stemma::sqlite
