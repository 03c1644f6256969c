// Text helpers shared by the tokenizer's decode paths: literal replacement (HF's Replace decoder
// and the SentencePiece space mark) and the byte-fallback token spelling "<0xAB>".
#pragma once

#include <string>
#include <string_view>

namespace stemma::token_strings {

// `text` with every occurrence of `from` replaced by `to`, scanning left to right without
// overlaps. An empty `from` leaves `text` unchanged.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

// The byte a byte-fallback token spells ("<0x41>" -> 0x41, either case of hex digits), or -1 when
// `token` is not exactly that form.
int byte_fallback_value(std::string_view token);

}  // namespace stemma::token_strings
