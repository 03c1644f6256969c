#include "engine/constrain/token_mask.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace stemma::constrain {

int32_t TokenMask::count() const {
  int32_t n = 0;
  for (uint64_t w : words_) n += std::popcount(w);
  return n;
}

void TokenMask::apply_to_logits(float* logits, int32_t n) const {
  const float kNegInf = -std::numeric_limits<float>::infinity();
  const int32_t covered = std::min(n, size_);
  // Word at a time: whole allowed words (free text states) cost one compare.
  for (int32_t base = 0; base < covered; base += 64) {
    const uint64_t w = words_[static_cast<size_t>(base >> 6)];
    if (w == ~uint64_t{0} && base + 64 <= covered) continue;
    const int32_t end = std::min(covered, base + 64);
    for (int32_t i = base; i < end; ++i) {
      if (((w >> (i - base)) & 1) == 0) logits[i] = kNegInf;
    }
  }
  for (int32_t i = std::max(covered, 0); i < n; ++i) logits[i] = kNegInf;
}

}  // namespace stemma::constrain
