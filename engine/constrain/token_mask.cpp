#include "engine/constrain/token_mask.h"

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
  for (int32_t i = 0; i < n; ++i) {
    if (!test(i)) logits[i] = kNegInf;
  }
}

}  // namespace stemma::constrain
