// Shows the "answer" string of a streaming JSON reply as it is generated: feed the raw text
// pieces, get back the newly complete part of the answer, unescaped. Tool calls show nothing.
#pragma once

#include <string>
#include <string_view>

namespace stemma::faqbot {

class AnswerStreamer {
 public:
  std::string feed(std::string_view piece);
  bool is_tool_call() const { return tool_; }

 private:
  enum class State { kSeek, kIn, kDone };
  State state_ = State::kSeek;
  std::string buf_;
  size_t pos_ = 0;
  bool tool_ = false;
};

}  // namespace stemma::faqbot
