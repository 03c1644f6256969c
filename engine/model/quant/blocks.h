// GGML's quantization block layouts, byte for byte, so GGUF tensors are used in place.
// Each block holds a run of consecutive elements along a row; scales are IEEE fp16 bits.
// Packed (alignment 1): with general.alignment = 1 a GGUF tensor may start at any byte.
#pragma once

#include <cstdint>

namespace stemma::quant {

inline constexpr int kQK8_0 = 32;
inline constexpr int kQK4_0 = 32;
inline constexpr int kQK_K = 256;  // super-block of the k-quants

// x[i] = d * qs[i]
struct [[gnu::packed]] BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};

// x[i] = d * ((qs[i] & 15) - 8) for i < 16; x[i + 16] = d * ((qs[i] >> 4) - 8)
struct [[gnu::packed]] BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};

// Q5_0 (GGML type 6, not a DType; see q5_0.cpp): x[i] = d * (q[i] - 16), q 5 bits: the low 4
// as in Q4_0 (element i and i + 16 share a byte), the fifth in bit i of the little-endian qh.
struct [[gnu::packed]] BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};

// 8 sub-blocks of 32: x = d * sc[j] * q - dmin * m[j], with 6-bit sc/m packed in `scales`.
// Within each 64-element chunk, the low nibbles of 32 bytes hold the first 32 elements and the
// high nibbles the next 32.
struct [[gnu::packed]] BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};

// 16 sub-blocks of 16: x = d * scales[j] * (q - 32), q 6 bits = 4 low bits in ql + 2 in qh.
struct [[gnu::packed]] BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(alignof(BlockQ8_0) == 1 && alignof(BlockQ4_0) == 1 && alignof(BlockQ5_0) == 1 &&
              alignof(BlockQ4_K) == 1 && alignof(BlockQ6_K) == 1);

}  // namespace stemma::quant
