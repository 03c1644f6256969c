// F16 and BF16: conversions by bit manipulation so results do not depend on the compiler's
// half-float support or the FPU rounding mode.
#include <cmath>
#include <cstring>

#include "engine/model/quant/quant.h"

namespace stemma::quant {
namespace {
uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Shifts `mant` right by `shift` (1..31) rounding to nearest, ties to even.
uint32_t shift_round_even(uint32_t mant, uint32_t shift) {
  uint32_t q = mant >> shift;
  uint32_t rem = mant & ((1u << shift) - 1);
  uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return q;
}
}  // namespace

uint16_t fp32_to_fp16(float f) {
  uint32_t x = bits_of(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) {  // inf or NaN; keep NaN quiet and non-zero
    return static_cast<uint16_t>(sign | 0x7c00u |
                                 (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0));
  }
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  uint32_t e = a >> 23;
  if (e < 113) {  // below 2^-14: half subnormal (units of 2^-24) or zero
    if (e < 102) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to zero
    uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    return static_cast<uint16_t>(sign | shift_round_even(mant, 126 - e));
  }
  uint32_t h = ((e - 112) << 10) | ((a & 0x7fffffu) >> 13);
  uint32_t rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry may step the exponent: fine
  return static_cast<uint16_t>(sign | h);
}

float fp16_to_fp32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  if (e == 0) {
    float v = std::ldexp(static_cast<float>(m), -24);
    return sign ? -v : v;
  }
  if (e == 31) return float_of(sign | 0x7f800000u | (m << 13));
  return float_of(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t fp32_to_bf16(float f) {
  uint32_t x = bits_of(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bf16_to_fp32(uint16_t b) {
  return float_of(static_cast<uint32_t>(b) << 16);
}

void quantize_row_f16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}
// The dequantizers read through memcpy: `x` may point into a GGUF mapping at an odd byte.
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(x);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, 2);
    y[i] = fp16_to_fp32(h);
  }
}
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(x);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, 2);
    y[i] = bf16_to_fp32(h);
  }
}

}  // namespace stemma::quant
