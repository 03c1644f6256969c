// The Unicode the tokenizer needs, from tables generated out of one Unicode version
// (tools/tokenizer/make_unicode_tables.py): the four normalization forms, general categories
// (HF's punctuation, mark, control and number tests) and per-character lowercase mappings.
#pragma once

#include <string>
#include <string_view>

namespace stemma::unicode {

enum class Form { kNfc, kNfd, kNfkc, kNfkd };

// `text` in normalization form `form` (well-formed UTF-8 in, well-formed UTF-8 out). Fast path:
// text with no character that could change is returned as is.
std::string normalize(std::string_view text, Form form);

// General categories, in UnicodeData.txt's two-letter names' order.
enum class Category {
  kLu,
  kLl,
  kLt,
  kLm,
  kLo,
  kMn,
  kMc,
  kMe,
  kNd,
  kNl,
  kNo,
  kPc,
  kPd,
  kPs,
  kPe,
  kPi,
  kPf,
  kPo,
  kSm,
  kSc,
  kSk,
  kSo,
  kZs,
  kZl,
  kZp,
  kCc,
  kCf,
  kCs,
  kCo,
  kCn
};
Category category(char32_t cp);

bool is_letter(char32_t cp);       // L*
bool is_mark(char32_t cp);         // M*
bool is_number(char32_t cp);       // N* (Rust's char::is_numeric)
bool is_punctuation(char32_t cp);  // P*
bool is_other(char32_t cp);        // C* (Cc, Cf, Cs, Co, Cn)
// Unicode White_Space (Rust's char::is_whitespace).
bool is_white_space(char32_t cp);

// Appends the lowercase of `cp` (one or two code points; the character itself when it has none).
void append_lowercase(char32_t cp, std::string* out);

}  // namespace stemma::unicode

namespace stemma {
// NFC, kept under its old name for callers.
inline std::string nfc_normalize(std::string_view text) {
  return unicode::normalize(text, unicode::Form::kNfc);
}
}  // namespace stemma
