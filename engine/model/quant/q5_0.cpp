// Q5_0 (GGML type 6): one fp16 scale per 32 elements, 5-bit values offset by 16; the fifth bits
// live in a 32-bit mask. Not a DType: GGUF downloads use it as llama.cpp's fallback where rows
// are not whole Q4_K blocks (e.g. Qwen2.5-0.5B's 896-wide rows), and the loader repacks it into
// Q8_0 exactly (d * (q - 16) with q - 16 in [-16, 15] is a Q8_0 block with the same d).
#include <cmath>
#include <cstring>

#include "engine/model/quant/quant.h"

namespace stemma::quant {

void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + b * 32;
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < 32; ++i) {
      if (std::fabs(xb[i]) > amax) {
        amax = std::fabs(xb[i]);
        max = xb[i];
      }
    }
    float d = max / -16.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int i = 0; i < 16; ++i) {
      int q0 = static_cast<int>(std::fmin(31.0f, std::fmax(0.0f, xb[i] * id + 16.5f)));
      int q1 = static_cast<int>(std::fmin(31.0f, std::fmax(0.0f, xb[i + 16] * id + 16.5f)));
      y[b].qs[i] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << i;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (i + 16);
    }
    std::memcpy(y[b].qh, &qh, 4);
  }
}

namespace {
// The 5-bit level of element i (0..31) of a block.
int q5_0_level(const BlockQ5_0& blk, int i) {
  uint32_t qh;
  std::memcpy(&qh, blk.qh, 4);
  int lo = i < 16 ? (blk.qs[i] & 0x0f) : (blk.qs[i - 16] >> 4);
  return lo | static_cast<int>(((qh >> i) & 1u) << 4);
}
}  // namespace

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b) {
    float d = fp16_to_fp32(x[b].d);
    for (int i = 0; i < 32; ++i) y[b * 32 + i] = d * static_cast<float>(q5_0_level(x[b], i) - 16);
  }
}

void repack_q5_0_to_q8_0(const BlockQ5_0* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b) {
    y[b].d = x[b].d;
    for (int i = 0; i < 32; ++i) y[b].qs[i] = static_cast<int8_t>(q5_0_level(x[b], i) - 16);
  }
}

}  // namespace stemma::quant
