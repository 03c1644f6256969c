// Q4_0: one fp16 scale per 32 elements, 4-bit values offset by 8. The element of largest
// magnitude maps to -8 exactly (GGML's choice: it uses the full negative range).
#include <algorithm>
#include <cmath>

#include "engine/model/quant/quant.h"

namespace stemma::quant {

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float* xb = x + b * kQK4_0;
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < kQK4_0; ++i) {
      if (std::fabs(xb[i]) > amax) {
        amax = std::fabs(xb[i]);
        max = xb[i];
      }
    }
    float d = max / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int i = 0; i < kQK4_0 / 2; ++i) {
      int q0 = static_cast<int>(std::fmin(15.0f, std::fmax(0.0f, xb[i] * id + 8.5f)));
      int q1 = static_cast<int>(std::fmin(15.0f, std::fmax(0.0f, xb[i + kQK4_0 / 2] * id + 8.5f)));
      y[b].qs[i] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    float d = fp16_to_fp32(x[b].d);
    float* yb = y + b * kQK4_0;
    for (int i = 0; i < kQK4_0 / 2; ++i) {
      yb[i] = d * static_cast<float>((x[b].qs[i] & 0x0f) - 8);
      yb[i + kQK4_0 / 2] = d * static_cast<float>((x[b].qs[i] >> 4) - 8);
    }
  }
}

}  // namespace stemma::quant
