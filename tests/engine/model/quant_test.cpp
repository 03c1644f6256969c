// Quantize -> dequantize round trips: per-type error bounds that follow from each format.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/model/quant/quant.h"

namespace stemma {
namespace {

std::vector<float> gaussian(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
  size_t bytes = 0;
  REQUIRE(dtype_row_bytes(t, static_cast<int64_t>(x.size()), &bytes));
  std::vector<uint8_t> q(bytes);
  REQUIRE(quant::quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size())).ok());
  std::vector<float> y(x.size());
  REQUIRE(quant::dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(x.size())).ok());
  return y;
}

double rel_rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    s += x[i] * static_cast<double>(x[i]);
  }
  return std::sqrt(e / s);
}

TEST_CASE("fp16 conversion matches the compiler's _Float16 on every half and on random floats") {
  for (uint32_t h = 0; h < 65536; ++h) {
    _Float16 ref;
    uint16_t hb = static_cast<uint16_t>(h);
    std::memcpy(&ref, &hb, 2);
    float f = quant::fp16_to_fp32(hb);
    float ref_f = static_cast<float>(ref);
    if (std::isnan(ref_f)) {
      CHECK(std::isnan(f));
      continue;
    }
    CHECK(f == ref_f);
    CHECK(quant::fp32_to_fp16(f) == hb);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    if (std::isnan(f)) continue;
    _Float16 ref = static_cast<_Float16>(f);
    uint16_t rb;
    std::memcpy(&rb, &ref, 2);
    uint16_t got = quant::fp32_to_fp16(f);
    if (got != rb) FAIL_CHECK("fp32 bits " << bits << " -> " << got << " expected " << rb);
  }
}

TEST_CASE("bf16 keeps the top 16 bits with round-to-nearest-even") {
  for (uint32_t b = 0; b < 65536; ++b) {
    float f = quant::bf16_to_fp32(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    CHECK(quant::fp32_to_bf16(f) == b);
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 100000; ++i) {
    uint32_t bits = rng() & 0x7effffffu;  // finite, away from the overflow to inf
    float f;
    std::memcpy(&f, &bits, 4);
    float back = quant::bf16_to_fp32(quant::fp32_to_bf16(f));
    // Nearest: the error is at most half a bf16 ulp (2^-8 relative).
    CHECK(std::fabs(back - f) <= std::fabs(f) * (1.0f / 256.0f) + 1e-38f);
  }
}

TEST_CASE("Q8_0 round trip error is within half a step of amax/127") {
  auto x = gaussian(32 * 64, 1);
  auto y = round_trip(DType::kQ8_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[b * 32 + i]));
    float step = amax / 127.0f;
    for (int i = 0; i < 32; ++i) {
      CHECK(std::fabs(x[b * 32 + i] - y[b * 32 + i]) <= step * 0.5f + amax * 1e-3f);
    }
  }
  CHECK(rel_rms_error(x, y) < 0.01);
}

TEST_CASE("Q4_0 round trip error is within one step of amax/8") {
  // The extreme maps to -8; values of the other sign clip at +7, so the bound is a full step.
  auto x = gaussian(32 * 64, 2);
  auto y = round_trip(DType::kQ4_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[b * 32 + i]));
    float step = amax / 8.0f;
    for (int i = 0; i < 32; ++i) {
      CHECK(std::fabs(x[b * 32 + i] - y[b * 32 + i]) <= step + amax * 2e-3f);
    }
  }
  CHECK(rel_rms_error(x, y) < 0.15);
}

TEST_CASE("Q4_K and Q6_K round trips stay within their resolution") {
  auto x = gaussian(256 * 32, 3, 0.02f);
  auto y4 = round_trip(DType::kQ4_K, x);
  auto y6 = round_trip(DType::kQ6_K, x);
  double e4 = rel_rms_error(x, y4), e6 = rel_rms_error(x, y6);
  CHECK(e4 < 0.12);  // 15 levels over each 32-element range
  CHECK(e6 < 0.03);  // 63 levels over each 16-element range
  CHECK(e6 < e4);
  // Per element: Q4_K's error is bounded by its sub-block range / 15 (step) — allow one step.
  for (size_t s = 0; s < x.size() / 32; ++s) {
    float lo = 0, hi = 0;
    for (int i = 0; i < 32; ++i) {
      lo = std::fmin(lo, x[s * 32 + i]);
      hi = std::fmax(hi, x[s * 32 + i]);
    }
    for (int i = 0; i < 32; ++i) CHECK(std::fabs(x[s * 32 + i] - y4[s * 32 + i]) <= (hi - lo) / 15);
  }
}

TEST_CASE("constant and zero rows survive every type") {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K,
                  DType::kQ6_K}) {
    std::vector<float> zeros(256, 0.0f);
    auto y = round_trip(t, zeros);
    for (float v : y) CHECK(v == 0.0f);
    std::vector<float> ones(256, 0.5f);
    auto z = round_trip(t, ones);
    for (float v : z) CHECK(std::fabs(v - 0.5f) < 0.01f);
  }
}

TEST_CASE("row lengths that are not whole blocks are refused") {
  std::vector<float> x(40, 1.0f);
  std::vector<uint8_t> buf(1024);
  auto st = quant::quantize_row(DType::kQ4_K, x.data(), buf.data(), 40);
  CHECK(!st.ok());
  CHECK(st.message().find("q4_k") != std::string::npos);
  size_t bytes = 0;
  CHECK(!dtype_row_bytes(DType::kQ8_0, 33, &bytes));
  CHECK(dtype_row_bytes(DType::kQ6_K, 512, &bytes));
  CHECK(bytes == 420);
}

}  // namespace
}  // namespace stemma

namespace stemma {
namespace {

TEST_CASE("Q5_0 round trip and its exact repacking into Q8_0") {
  auto x = gaussian(32 * 64, 5);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<quant::BlockQ5_0> q(static_cast<size_t>(n / 32));
  quant::quantize_row_q5_0(x.data(), q.data(), n);
  std::vector<float> y(x.size());
  quant::dequantize_row_q5_0(q.data(), y.data(), n);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[b * 32 + i]));
    for (int i = 0; i < 32; ++i) {
      CHECK(std::fabs(x[b * 32 + i] - y[b * 32 + i]) <= amax / 16.0f + amax * 2e-3f);
    }
  }
  CHECK(rel_rms_error(x, y) < 0.07);
  std::vector<quant::BlockQ8_0> r(q.size());
  quant::repack_q5_0_to_q8_0(q.data(), r.data(), n);
  std::vector<float> z(x.size());
  quant::dequantize_row_q8_0(r.data(), z.data(), n);
  CHECK(std::memcmp(y.data(), z.data(), y.size() * 4) == 0);
}

}  // namespace
}  // namespace stemma
