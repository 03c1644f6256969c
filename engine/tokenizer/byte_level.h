// GPT-2's byte <-> printable-character map: byte-level BPE vocabularies store every byte as one
// visible Unicode character (space -> "Ġ", newline -> "Ċ", ...), so tokens are valid text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace stemma::byte_level {

// UTF-8 of the character that stands for `byte`.
const std::string& encode_byte(uint8_t byte);

// `bytes` with every byte replaced by its character.
std::string encode(std::string_view bytes);

// The inverse: characters back to bytes. Returns false when a character is not in the map
// (then `out` holds the character's own UTF-8 for that part).
bool decode(std::string_view text, std::string* out);

}  // namespace stemma::byte_level
