// A check run on JSON text before it is parsed: how deep its arrays and objects nest. Parsing,
// copying, comparing and translating a JSON value all recurse once per level, so input that
// nests deeper than a limit is refused up front, with an error naming the limit, instead of
// running out of stack (issue 15: a JSON Schema nested 50,000 deep).
#pragma once

#include <string_view>

#include "engine/api/status.h"

namespace stemma::constrain {

// Deepest JSON nesting a schema may have (arrays and objects, counted from 1 at the root).
inline constexpr int kMaxJsonNesting = 512;

// OK when `text` (JSON, not yet parsed: only brackets outside strings are counted) nests at
// most `max_depth` levels; InvalidArgument naming `what`, the depth and the byte offset else.
Status check_json_nesting(std::string_view text, int max_depth, std::string_view what);

}  // namespace stemma::constrain
