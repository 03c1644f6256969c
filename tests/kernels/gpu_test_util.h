// Helpers of the GPU kernel tests: skip without a GPU, device buffers, host fp16/bf16 rounding.
#pragma once

#include <cuda_runtime.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace stemma::kernels::testing {

// Exits with 77 (ctest: skipped) before any test runs when no GPU is usable.
inline bool exit_77_without_gpu() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::fprintf(stderr, "no CUDA device: skipping\n");
    std::exit(77);
  }
  return true;
}

#define STEMMA_CUDA_CHECK(expr)                         \
  do {                                                  \
    cudaError_t e_ = (expr);                            \
    if (e_ != cudaSuccess) {                            \
      FAIL(#expr, " failed: ", cudaGetErrorString(e_)); \
    }                                                   \
  } while (0)

inline uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00u);
  if (a >= 65520.f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (a < 6.103515625e-05f) {  // subnormal: units of 2^-24, round to nearest even
    const float q = a * 16777216.f;
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(q)));
  }
  uint32_t ax;
  std::memcpy(&ax, &a, 4);
  uint32_t mant = ax & 0x7fffffu;
  int32_t exp = static_cast<int32_t>((ax >> 23) & 0xffu) - 127 + 15;
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent
  return static_cast<uint16_t>(sign | h);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f)) return 0x7fc0u;
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

inline float bf16_to_f32(uint16_t h) {
  const uint32_t x = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

inline uint16_t to_bits(float f, bool bf16) {
  return bf16 ? f32_to_bf16(f) : f32_to_f16(f);
}
inline float from_bits(uint16_t h, bool bf16) {
  return bf16 ? bf16_to_f32(h) : f16_to_f32(h);
}

// Random values rounded to the 16-bit type; `bits` gets the encoding, the return the values.
inline std::vector<float> random_half(std::mt19937& rng, size_t n, float scale, bool bf16,
                                      std::vector<uint16_t>& bits) {
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  bits.resize(n);
  for (size_t i = 0; i < n; ++i) {
    bits[i] = to_bits(dist(rng), bf16);
    v[i] = from_bits(bits[i], bf16);
  }
  return v;
}

// A device buffer freed on scope exit.
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t count = 0;
  explicit DeviceBuffer(size_t n) : count(n) {
    if (cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)) != cudaSuccess) ptr = nullptr;
  }
  DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void upload(const std::vector<T>& host) {
    if (!host.empty())
      cudaMemcpy(ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  std::vector<T> download() const {
    std::vector<T> host(count);
    if (count) cudaMemcpy(host.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }
  void poison() { cudaMemset(ptr, 0xff, std::max<size_t>(count, 1) * sizeof(T)); }  // NaN
};

}  // namespace stemma::kernels::testing
