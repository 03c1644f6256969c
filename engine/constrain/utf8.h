// UTF-8 helpers for the byte-level automata: decoding patterns, and turning code point ranges
// into sequences of byte ranges (so a class like [^"\\] becomes a handful of byte paths).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stemma::constrain {

// Decodes strict UTF-8 (no surrogates, no overlongs). Returns false on malformed input.
bool decode_utf8(std::string_view text, std::vector<uint32_t>* out);
void append_utf8(uint32_t cp, std::string* out);

// One UTF-8 byte path: byte i lies in [lo[i], hi[i]] for i < length.
struct Utf8Sequence {
  int length = 0;
  std::array<uint8_t, 4> lo{};
  std::array<uint8_t, 4> hi{};
};

// The byte paths that together match exactly the code points in [lo, hi], minus surrogates.
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>* out);

// Length of the longest prefix of `bytes` that ends on a UTF-8 character boundary
// (drops a trailing incomplete multi-byte character).
size_t utf8_complete_prefix(std::string_view bytes);

}  // namespace stemma::constrain
