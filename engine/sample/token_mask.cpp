#include "engine/sample/token_mask.h"

#include <bit>
#include <limits>

namespace stemma {

TokenMask::TokenMask(int64_t vocab_size, bool allow_all)
    : vocab_size_(vocab_size > 0 ? vocab_size : 0),
      words_(static_cast<size_t>((vocab_size_ + 63) / 64), allow_all ? ~uint64_t{0} : 0) {
  if (allow_all && vocab_size_ % 64 != 0) words_.back() &= (uint64_t{1} << (vocab_size_ % 64)) - 1;
}

void TokenMask::allow(int32_t token) {
  if (token >= 0 && token < vocab_size_) words_[token / 64] |= uint64_t{1} << (token % 64);
}

void TokenMask::disallow(int32_t token) {
  if (token >= 0 && token < vocab_size_) words_[token / 64] &= ~(uint64_t{1} << (token % 64));
}

bool TokenMask::allowed(int32_t token) const {
  return token >= 0 && token < vocab_size_ && ((words_[token / 64] >> (token % 64)) & 1) != 0;
}

int64_t TokenMask::count() const {
  int64_t n = 0;
  for (uint64_t w : words_) n += std::popcount(w);
  return n;
}

void TokenMask::apply(std::span<float> logits) const {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!allowed(static_cast<int32_t>(i))) logits[i] = neg_inf;
  }
}

}  // namespace stemma
