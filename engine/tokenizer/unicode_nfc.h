// Unicode Normalization Form C (canonical decomposition, then canonical composition), as
// Qwen2's tokenizer.json normalizer asks for. Tables are generated from Python's unicodedata by
// tools/tokenizer/make_unicode_tables.py; Hangul syllables are composed algorithmically.
#pragma once

#include <string>
#include <string_view>

namespace stemma {

// NFC of `text` (well-formed UTF-8 in, well-formed UTF-8 out). Fast path: text with no
// character that could change is returned as is.
std::string nfc_normalize(std::string_view text);

}  // namespace stemma
