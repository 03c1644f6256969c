#include "capi/utf8_check.h"

#include "engine/api/utf8_repair.h"

namespace stemma::capi {

size_t first_invalid_utf8(std::string_view text) {
  return first_invalid_utf8_byte(text);
}

}  // namespace stemma::capi
