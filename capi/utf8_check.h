// Strict UTF-8 validation for text coming in through the C ABI: the first bad byte is reported
// by offset, so the caller's error message can point at it.
#pragma once

#include <cstddef>
#include <string_view>

namespace stemma::capi {

// Returns the byte offset of the first byte that does not start or continue a well-formed
// UTF-8 sequence (overlong forms, surrogates U+D800..U+DFFF and code points above U+10FFFF are
// refused, as are truncated sequences), or std::string_view::npos when `text` is well-formed.
size_t first_invalid_utf8(std::string_view text);

}  // namespace stemma::capi
