#include "engine/sample/text_stream.h"

#include <algorithm>

namespace stemma {

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings)
    : decoder_(tokenizer, DecodeOptions{.skip_special = true}), stops_(std::move(stop_strings)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

size_t TextStream::held_suffix() const {
  size_t best = 0;
  for (const std::string& s : stops_) {
    const size_t longest = std::min(s.size() - 1, held_.size());
    for (size_t k = longest; k > best; --k) {
      if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
        best = k;
        break;
      }
    }
  }
  return best;
}

std::string TextStream::push(std::span<const int32_t> ids) {
  if (stopped_) return {};
  for (int32_t id : ids) {
    auto piece = decoder_.push(id);
    if (piece.ok()) held_ += *piece;
  }
  // Earliest stop string wins. Nothing before held_ can start one: a suffix that could was held.
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) cut = std::min(cut, held_.find(s));
  std::string out;
  if (cut != std::string::npos) {
    stopped_ = true;
    out = held_.substr(0, cut);
    held_.clear();
    return out;
  }
  const size_t keep = held_suffix();
  out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string TextStream::flush() {
  if (stopped_) return {};
  std::string out = std::move(held_);
  held_.clear();
  out += decoder_.flush();
  return out;
}

}  // namespace stemma
