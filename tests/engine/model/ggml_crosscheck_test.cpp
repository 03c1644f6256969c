// Our block layouts against GGML itself: llama.cpp's libggml-base.so (installed by
// scripts/setup.d/50-llama-cpp.sh under .assets/llama-cpp) decodes what we encode, and we decode
// what it encodes, bit for bit. Skipped (exit 77) where the library is absent.
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "engine/model/quant/quant.h"

namespace stemma {
namespace {

const char* kLib = STEMMA_ASSETS_DIR
    "/llama-cpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";

void* ggml() {
  static void* handle = [] {
    if (!std::filesystem::exists(kLib)) {
      MESSAGE("libggml-base.so not installed (scripts/setup.d/50-llama-cpp.sh); skipping");
      std::exit(77);
    }
    void* h = dlopen(kLib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      MESSAGE("dlopen failed: " << dlerror() << "; skipping");
      std::exit(77);
    }
    return h;
  }();
  return handle;
}

template <typename Fn>
Fn sym(const char* name) {
  void* p = dlsym(ggml(), name);
  REQUIRE_MESSAGE(p != nullptr, "libggml-base.so lacks " << name);
  return reinterpret_cast<Fn>(p);
}

using QuantFn = void (*)(const float*, void*, int64_t);
using DequantFn = void (*)(const void*, float*, int64_t);

std::vector<float> data(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.05f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  for (size_t i = 0; i < v.size(); i += 97) v[i] *= 8.0f;       // some outliers
  for (size_t i = 0; i < 32 && i < v.size(); ++i) v[i] = 0.0f;  // an all-zero block
  return v;
}

struct Case {
  const char* name;
  DType dtype;  // ours; GGML's id is the same number
  const char* quant_ref;
  const char* dequant;
};

void check_type(const Case& c, int64_t n) {
  std::string name = c.name;
  CAPTURE(name);
  auto q_ggml = sym<QuantFn>(c.quant_ref);
  auto dq_ggml = sym<DequantFn>(c.dequant);
  auto x = data(n, 17);
  size_t bytes = 0;
  REQUIRE(dtype_row_bytes(c.dtype, n, &bytes));
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
  // We encode; both decode.
  std::vector<uint8_t> ours(bytes);
  REQUIRE(quant::quantize_row(c.dtype, x.data(), ours.data(), n).ok());
  dq_ggml(ours.data(), a.data(), n);
  REQUIRE(quant::dequantize_row(c.dtype, ours.data(), b.data(), n).ok());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  // GGML encodes; both decode.
  std::vector<uint8_t> theirs(bytes);
  q_ggml(x.data(), theirs.data(), n);
  dq_ggml(theirs.data(), a.data(), n);
  REQUIRE(quant::dequantize_row(c.dtype, theirs.data(), b.data(), n).ok());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  // Our encoder is no worse than GGML's by more than a little (it searches less).
  double e_ours = 0, e_theirs = 0;
  std::vector<float> y(static_cast<size_t>(n));
  REQUIRE(quant::dequantize_row(c.dtype, ours.data(), y.data(), n).ok());
  for (int64_t i = 0; i < n; ++i) {
    e_ours += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    e_theirs += (x[i] - a[i]) * static_cast<double>(x[i] - a[i]);
  }
  MESSAGE(name << " rms error ours/ggml = " << std::sqrt(e_ours / e_theirs));
  CHECK(e_ours <= e_theirs * 1.5 * 1.5);
}

TEST_CASE("our Q8_0 / Q4_0 / Q4_K / Q6_K blocks are GGML's") {
  const Case cases[] = {
      {"q8_0", DType::kQ8_0, "quantize_row_q8_0_ref", "dequantize_row_q8_0"},
      {"q4_0", DType::kQ4_0, "quantize_row_q4_0_ref", "dequantize_row_q4_0"},
      {"q4_k", DType::kQ4_K, "quantize_row_q4_K_ref", "dequantize_row_q4_K"},
      {"q6_k", DType::kQ6_K, "quantize_row_q6_K_ref", "dequantize_row_q6_K"},
  };
  for (const auto& c : cases) check_type(c, 256 * 64);
}

TEST_CASE("Q5_0 from GGML decodes and repacks to Q8_0 exactly") {
  auto q_ggml = sym<QuantFn>("quantize_row_q5_0_ref");
  auto dq_ggml = sym<DequantFn>("dequantize_row_q5_0");
  const int64_t n = 32 * 128;
  auto x = data(n, 5);
  std::vector<quant::BlockQ5_0> q(static_cast<size_t>(n / 32));
  q_ggml(x.data(), q.data(), n);
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n)),
      c(static_cast<size_t>(n));
  dq_ggml(q.data(), a.data(), n);
  quant::dequantize_row_q5_0(q.data(), b.data(), n);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  std::vector<quant::BlockQ8_0> r(q.size());
  quant::repack_q5_0_to_q8_0(q.data(), r.data(), n);
  quant::dequantize_row_q8_0(r.data(), c.data(), n);
  CHECK(std::memcmp(a.data(), c.data(), a.size() * 4) == 0);
  // And ours encodes what GGML decodes the same way.
  quant::quantize_row_q5_0(x.data(), q.data(), n);
  dq_ggml(q.data(), a.data(), n);
  quant::dequantize_row_q5_0(q.data(), b.data(), n);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

TEST_CASE("F16 and BF16 conversions are GGML's") {
  using ToHalf = void (*)(const float*, uint16_t*, int64_t);
  using FromHalf = void (*)(const uint16_t*, float*, int64_t);
  auto f2h = sym<ToHalf>("ggml_fp32_to_fp16_row");
  auto h2f = sym<FromHalf>("ggml_fp16_to_fp32_row");
  auto f2b = sym<ToHalf>("ggml_fp32_to_bf16_row_ref");
  auto b2f = sym<FromHalf>("ggml_bf16_to_fp32_row");
  std::mt19937 rng(9);
  std::vector<float> x(100000);
  for (auto& v : x) {
    uint32_t bits = rng();
    std::memcpy(&v, &bits, 4);
    if (std::isnan(v)) v = 1.0f;
  }
  std::vector<uint16_t> g(x.size()), o(x.size());
  f2h(x.data(), g.data(), static_cast<int64_t>(x.size()));
  quant::quantize_row_f16(x.data(), o.data(), static_cast<int64_t>(x.size()));
  CHECK(g == o);
  f2b(x.data(), g.data(), static_cast<int64_t>(x.size()));
  quant::quantize_row_bf16(x.data(), o.data(), static_cast<int64_t>(x.size()));
  CHECK(g == o);
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> a(65536), b(65536);
  h2f(all.data(), a.data(), 65536);
  quant::dequantize_row_f16(all.data(), b.data(), 65536);
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) {
      CHECK(std::isnan(b[i]));  // NaN payloads may differ (quieting); NaN stays NaN
    } else if (std::memcmp(&a[i], &b[i], 4) != 0) {
      FAIL_CHECK("fp16 " << i << ": ggml " << a[i] << " ours " << b[i]);
    }
  }
  b2f(all.data(), a.data(), 65536);
  quant::dequantize_row_bf16(all.data(), b.data(), 65536);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

}  // namespace
}  // namespace stemma
