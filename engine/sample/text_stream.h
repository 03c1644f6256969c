// The text of one request's output as it streams: tokens in, text out that is valid UTF-8 (never
// half a character), with control tokens not rendered, and with stop strings applied: text that
// might be the start of a stop string is held back until it is known not to be one, and once a
// stop string appears the text ends just before it (the stop string itself is never emitted).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace stemma {

class TextStream {
 public:
  // `tokenizer` must outlive the stream.
  TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings);

  // Decodes `ids` (the next generated tokens) and returns the text that became safe to emit.
  // Ids the tokenizer does not know render as nothing. After stopped(), returns "".
  std::string push(std::span<const int32_t> ids);
  // The request ended for another reason: everything held back (an incomplete UTF-8 tail as
  // U+FFFD). "" after stopped().
  std::string flush();

  // A stop string appeared; the text ended before it.
  bool stopped() const { return stopped_; }

 private:
  // Longest suffix of held_ that is a proper prefix of some stop string.
  size_t held_suffix() const;

  StreamDecoder decoder_;
  std::vector<std::string> stops_;
  std::string held_;  // decoded, not yet emitted (may start a stop string)
  bool stopped_ = false;
};

}  // namespace stemma
