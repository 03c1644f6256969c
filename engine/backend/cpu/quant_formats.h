// Byte layouts of the weight blocks the CPU kernels read (GGML's, so GGUF data is used in place)
// and of the 8-bit activation blocks that x is quantized to before integer dot products.
// Everything here is `static inline` or a plain struct: this header is included by kernel files
// compiled for different instruction sets, and must not create shared (ODR-merged) symbols.
#pragma once

#include <cstdint>
#include <cstring>

namespace stemma::cpu {

// ---- weights (GGML block layouts) ----
// Packed (alignment 1): a GGUF may set general.alignment = 1, so a tensor, and every block in it,
// can start at any byte of the mapped file (reading it through a 2-aligned type would be UB).
struct [[gnu::packed]] BlockQ8_0 {  // 32 weights: w = d * qs[i]
  uint16_t d;                       // f16
  int8_t qs[32];
};
struct [[gnu::packed]] BlockQ4_0 {  // 32 weights: w[i] = d * ((qs[i] & 15) - 8), w[i+16] = d *
                                    // ((qs[i] >> 4) - 8)
  uint16_t d;
  uint8_t qs[16];
};
constexpr int kSuperBlock = 256;
struct [[gnu::packed]] BlockQ4_K {  // 256 weights in 8 sub-blocks of 32: w = d * sc[j] * q - dmin *
                                    // m[j]
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];  // 6-bit scales and mins, packed
  uint8_t qs[128];     // chunk c (32 bytes): low nibbles = sub-block 2c, high = 2c+1
};
struct [[gnu::packed]] BlockQ6_K {  // 256 weights in 16 sub-blocks of 16: w = d * sc[j] * (q - 32)
  uint8_t ql[128];                  // low 4 bits
  uint8_t qh[64];                   // high 2 bits
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(alignof(BlockQ8_0) == 1 && alignof(BlockQ4_0) == 1 && alignof(BlockQ4_K) == 1 &&
              alignof(BlockQ6_K) == 1);

// ---- activations ----
// 32 values: x ~= d * qs[i]; sum = sum of qs (lets the Q4_0 offset be applied once per block).
struct ActQ32 {
  float d;
  int32_t sum;
  int8_t qs[32];
};
// 256 values: x ~= d * qs[i]; bsums[g] = sum of qs[16g .. 16g+15] (for the K-quant offsets).
struct ActQ256 {
  float d;
  int16_t bsums[16];
  int8_t qs[256];
};
// 32 values for the packed Q8_0 kernels (packed_weights.h), whose weights are stored as
// w + 128 (unsigned, as vpdpbusd wants them): bias = -128 * sum(qs) undoes the offset.
struct ActQ32R {
  float d;
  int32_t bias;
  int8_t qs[32];
};
static_assert(sizeof(ActQ32) == 40);
static_assert(sizeof(ActQ32R) == 40);
static_assert(sizeof(ActQ256) == 292);

// ---- scalar conversions ----
static inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline uint32_t bits_from_f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

static inline float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0) return f32_from_bits(sign);
    // Subnormal: value = mant * 2^-24.
    float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
  return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

static inline float bf16_to_f32(uint16_t h) {
  return f32_from_bits(static_cast<uint32_t>(h) << 16);
}

// Q4_K packs 8 six-bit scales and 8 six-bit mins into 12 bytes.
static inline void q4k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace stemma::cpu
