#include "demos/faq-bot/answer_stream.h"

#include <cstdlib>

namespace stemma::faqbot {
namespace {

void append_utf8(uint32_t cp, std::string* out) {
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate halves: not shown
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string AnswerStreamer::feed(std::string_view piece) {
  static constexpr std::string_view kKey = "\"answer\": \"";
  buf_.append(piece);
  std::string out;
  while (state_ != State::kDone) {
    if (state_ == State::kSeek) {
      if (buf_.starts_with("<tool_call>")) {
        tool_ = true;
        state_ = State::kDone;
        break;
      }
      const size_t at = buf_.find(kKey);
      if (at == std::string::npos) break;
      pos_ = at + kKey.size();
      state_ = State::kIn;
      continue;
    }
    if (pos_ >= buf_.size()) break;
    const char c = buf_[pos_];
    if (c == '"') {
      state_ = State::kDone;
      break;
    }
    if (c != '\\') {
      out += c;
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= buf_.size()) break;  // wait for the escaped character
    const char e = buf_[pos_ + 1];
    if (e == 'u') {
      if (pos_ + 6 > buf_.size()) break;
      append_utf8(
          static_cast<uint32_t>(std::strtoul(buf_.substr(pos_ + 2, 4).c_str(), nullptr, 16)), &out);
      pos_ += 6;
      continue;
    }
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      default:
        out += e;  // \" \\ \/
    }
    pos_ += 2;
  }
  return out;
}

}  // namespace stemma::faqbot
