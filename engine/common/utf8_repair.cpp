#include "engine/api/utf8_repair.h"

#include <cstdint>

namespace stemma {

size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  if (i >= n) return 0;
  const uint8_t b = s[i];
  if (b < 0x80) return 1;
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b == 0xE0) {
    len = 3, lo = 0xA0;
  } else if (b >= 0xE1 && b <= 0xEC) {
    len = 3;
  } else if (b == 0xED) {
    len = 3, hi = 0x9F;
  } else if (b >= 0xEE && b <= 0xEF) {
    len = 3;
  } else if (b == 0xF0) {
    len = 4, lo = 0x90;
  } else if (b >= 0xF1 && b <= 0xF3) {
    len = 4;
  } else if (b == 0xF4) {
    len = 4, hi = 0x8F;
  } else {
    return 0;  // a continuation byte, C0/C1 or F5..FF cannot start a character
  }
  if (i + 1 >= n || s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (i + k >= n || s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
  }
  return len;
}

size_t first_invalid_utf8_byte(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = utf8_sequence_length(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string repair_utf8(std::string_view text) {
  size_t i = first_invalid_utf8_byte(text);
  if (i == std::string_view::npos) return std::string(text);
  static const char kHex[] = "0123456789ABCDEF";
  std::string out(text.substr(0, i));
  while (i < text.size()) {
    const size_t len = utf8_sequence_length(text, i);
    if (len > 0) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    const auto b = static_cast<uint8_t>(text[i++]);
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace stemma
