// Q8_0: one fp16 scale per 32 elements, values rounded to int8 in [-127, 127].
#include <cmath>

#include "engine/model/quant/quant.h"

namespace stemma::quant {

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0.0f;
    for (int i = 0; i < kQK8_0; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int i = 0; i < kQK8_0; ++i)
      y[b].qs[i] =
          static_cast<int8_t>(std::round(std::fmin(127.0f, std::fmax(-127.0f, xb[i] * id))));
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    float d = fp16_to_fp32(x[b].d);
    for (int i = 0; i < kQK8_0; ++i) y[b * kQK8_0 + i] = d * static_cast<float>(x[b].qs[i]);
  }
}

}  // namespace stemma::quant
