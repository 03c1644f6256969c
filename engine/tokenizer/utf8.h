// UTF-8 helpers the tokenizer needs: decoding one code point, appending one, replacing invalid
// sequences the way WHATWG's TextDecoder (and HF's from_utf8_lossy) does, and finding the end of
// the longest complete prefix for streaming decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stemma::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Decodes the code point at text[pos]. Sets `len` to the bytes consumed (>= 1). An invalid or
// truncated sequence gives kReplacement and `len` = the length of its maximal subpart (WHATWG).
char32_t decode(std::string_view text, size_t pos, size_t* len);

// Appends the UTF-8 encoding of `cp` to `out`.
void append(std::string* out, char32_t cp);

// True when `text` is well-formed UTF-8.
bool is_valid(std::string_view text);

// `text` with every invalid sequence replaced by U+FFFD (one per maximal subpart, as WHATWG's
// TextDecoder and Rust's from_utf8_lossy do).
std::string sanitize(std::string_view text);

// Length of the longest prefix of `text` that does not end inside an incomplete (but so far
// valid) multi-byte sequence: the bytes after it may still become a character.
size_t complete_prefix_length(std::string_view text);

}  // namespace stemma::utf8
