// Well-formed UTF-8 at the boundaries: text that leaves the library (error messages quoting a
// path or a file's bytes, JSON the CLI prints, strings the C ABI hands out) must be UTF-8 even
// when what it quotes is not. Invalid bytes are written as the four characters "\xNN", so a
// path with a Latin-1 byte stays recognizable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stemma {

// Length of the well-formed UTF-8 sequence starting at text[i] (1..4), or 0 when the byte there
// does not start one (Table 3-7 of the Unicode Standard: overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences are all ill-formed).
size_t utf8_sequence_length(std::string_view text, size_t i);

// Offset of the first byte that is not part of a well-formed sequence, or npos.
size_t first_invalid_utf8_byte(std::string_view text);

// `text` with every byte outside a well-formed sequence replaced by "\xNN" (upper-case hex).
// Returns `text` unchanged when it is already well-formed.
std::string repair_utf8(std::string_view text);

}  // namespace stemma
