// Random weight rows in every stored type for the CPU kernel tests: random bytes with the
// scale fields (f16) set to small positive values, so dot products stay in a sane range.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/backend/cpu/kernels.h"
#include "engine/model/dtype.h"

namespace stemma::cpu::test {

inline uint16_t f16_bits(float f) {
  // Test-only f32 -> f16 for normal values in range (scales of random blocks), round-to-nearest.
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000;
  const int exp = static_cast<int>((u >> 23) & 0xff) - 127 + 15;
  uint32_t mant = (u >> 13) & 0x3ff;
  if ((u >> 12) & 1) mant += 1;  // round half up is enough for test data
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10)) +
         static_cast<uint16_t>(mant);
}

// Random bytes of `rows` rows of `k` values of `dtype`, with scale fields set to sane values.
inline std::vector<uint8_t> random_weights(DType dtype, int64_t rows, int64_t k,
                                           std::mt19937& rng) {
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  const size_t rb = row_bytes(dtype, k);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
  auto put16 = [&](uint8_t* p, float v) {
    const uint16_t h = f16_bits(v);
    std::memcpy(p, &h, 2);
  };
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = w.data() + rb * static_cast<size_t>(r);
    switch (dtype) {
      case DType::kF32:
        for (int64_t i = 0; i < k; ++i) {
          const float v = uni(rng);
          std::memcpy(row + 4 * i, &v, 4);
        }
        break;
      case DType::kF16:
        for (int64_t i = 0; i < k; ++i) put16(row + 2 * i, uni(rng));
        break;
      case DType::kBF16:
        for (int64_t i = 0; i < k; ++i) {
          const float v = uni(rng);
          uint32_t u;
          std::memcpy(&u, &v, 4);
          const uint16_t h = static_cast<uint16_t>(u >> 16);
          std::memcpy(row + 2 * i, &h, 2);
        }
        break;
      case DType::kQ8_0:
        for (int64_t b = 0; b < k / 32; ++b)
          put16(row + 34 * b, 0.01f + 0.01f * std::fabs(uni(rng)));
        break;
      case DType::kQ4_0:
        for (int64_t b = 0; b < k / 32; ++b)
          put16(row + 18 * b, 0.01f + 0.01f * std::fabs(uni(rng)));
        break;
      case DType::kQ4_K:
        for (int64_t b = 0; b < k / 256; ++b) {
          put16(row + 144 * b, 0.001f + 0.001f * std::fabs(uni(rng)));
          put16(row + 144 * b + 2, 0.001f + 0.001f * std::fabs(uni(rng)));
        }
        break;
      case DType::kQ6_K:
        for (int64_t b = 0; b < k / 256; ++b)
          put16(row + 210 * b + 208, 0.001f + 0.001f * std::fabs(uni(rng)));
        break;
    }
  }
  return w;
}

}  // namespace stemma::cpu::test
