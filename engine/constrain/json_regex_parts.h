// Regex pieces for JSON values: strings, numbers, integer and number ranges, string formats.
// Every piece is RE2-compatible syntax, so tests can cross-check our automata with RE2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/api/status.h"

namespace stemma::constrain::json_regex {

// One character of a JSON string body: an unescaped character, or an escape. \u escapes of
// surrogates are left out so that a character counts as one toward minLength/maxLength (as
// Python's jsonschema counts code points).
extern const char* const kStringChar;
extern const char* const kString;   // "..." with kStringChar*
extern const char* const kInteger;  // -?(0|[1-9][0-9]{0,18}): at most 19 digits
extern const char* const kNumber;   // JSON number, bounded lengths (19.17e3 digits)
extern const char* const kBoolean;
extern const char* const kNull;
extern const char* const kNothing;  // matches no string

// Integers in [lo, hi]; absent bounds are open. Fails if lo > hi (no integer fits).
Result<std::string> integer_range(std::optional<int64_t> lo, std::optional<int64_t> hi);
// JSON numbers x with lo <= x <= hi where the bounds are integers (no exponent form).
Result<std::string> number_range(std::optional<int64_t> lo, std::optional<int64_t> hi);

// The body (between the quotes) of a string in `format`; NotFound for formats we lack.
Result<std::string> format_body(const std::string& format);

// kStringChar repeated [min, max] times (max < 0: unbounded), splitting counts over 1000.
std::string repeat(const std::string& item, int64_t min, int64_t max);

}  // namespace stemma::constrain::json_regex
