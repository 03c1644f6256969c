#include "engine/tokenizer/utf8.h"

namespace stemma::utf8 {
namespace {

// Number of bytes a sequence starting with `lead` has, or 0 for a byte that cannot lead.
int sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The valid range of the second byte depends on the lead byte (no overlongs, no surrogates,
// nothing past U+10FFFF); later continuation bytes are always 0x80..0xBF.
bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0:
      return b >= 0xA0 && b <= 0xBF;
    case 0xED:
      return b >= 0x80 && b <= 0x9F;
    case 0xF0:
      return b >= 0x90 && b <= 0xBF;
    case 0xF4:
      return b >= 0x80 && b <= 0x8F;
    default:
      return b >= 0x80 && b <= 0xBF;
  }
}

}  // namespace

char32_t decode(std::string_view text, size_t pos, size_t* len) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  const int n = sequence_length(lead);
  if (n == 1) {
    *len = 1;
    return lead;
  }
  if (n == 0) {
    *len = 1;
    return kReplacement;
  }
  char32_t cp = lead & (0xFF >> (n + 1));
  for (int i = 1; i < n; ++i) {
    if (pos + i >= text.size()) {
      *len = i;
      return kReplacement;
    }
    const auto b = static_cast<uint8_t>(text[pos + i]);
    const bool ok = i == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) {
      *len = i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *len = n;
  return cp;
}

void append(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t len = 0;
    const char32_t cp = decode(text, pos, &len);
    // A literal U+FFFD in the input is valid; a replacement from a bad sequence is not.
    if (cp == kReplacement && !(len == 3 && text.substr(pos, 3) == "\xEF\xBF\xBD")) return false;
    pos += len;
  }
  return true;
}

std::string sanitize(std::string_view text) {
  if (is_valid(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t len = 0;
    const char32_t cp = decode(text, pos, &len);
    if (cp == kReplacement) {
      append(&out, kReplacement);
    } else {
      out.append(text.substr(pos, len));
    }
    pos += len;
  }
  return out;
}

size_t complete_prefix_length(std::string_view text) {
  // Look back at most 3 bytes for a lead byte whose sequence is cut off by the end.
  const size_t n = text.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(text[n - back]);
    if (b >= 0x80 && b <= 0xBF) continue;  // continuation: keep looking for the lead
    const int want = sequence_length(b);
    if (want > static_cast<int>(back)) {
      // Only hold back if what we have so far is a valid start of that sequence.
      size_t len = 0;
      decode(text, n - back, &len);
      if (len == back) return n - back;
    }
    return n;
  }
  return n;
}

}  // namespace stemma::utf8
