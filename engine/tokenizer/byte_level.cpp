#include "engine/tokenizer/byte_level.h"

#include <unordered_map>

#include "engine/tokenizer/utf8.h"

namespace stemma::byte_level {
namespace {

struct Maps {
  std::array<std::string, 256> to_char;
  std::unordered_map<char32_t, uint8_t> to_byte;
  Maps() {
    // Printable Latin-1 bytes stand for themselves; the others take code points from 256 up,
    // in byte order (the GPT-2 bytes_to_unicode table).
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
      utf8::append(&to_char[b], cp);
      to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const Maps& maps() {
  static const Maps m;
  return m;
}

}  // namespace

const std::string& encode_byte(uint8_t byte) {
  return maps().to_char[byte];
}

std::string encode(std::string_view bytes) {
  const auto& m = maps();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += m.to_char[static_cast<uint8_t>(c)];
  return out;
}

bool decode(std::string_view text, std::string* out) {
  const auto& m = maps();
  bool ok = true;
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const char32_t cp = utf8::decode(text, pos, &len);
    auto it = m.to_byte.find(cp);
    if (it != m.to_byte.end()) {
      out->push_back(static_cast<char>(it->second));
    } else {
      out->append(text.substr(pos, len));
      ok = false;
    }
    pos += len;
  }
  return ok;
}

}  // namespace stemma::byte_level
