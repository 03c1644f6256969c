// The CPU backend's per-vector operations (engine/backend/cpu/ops.h) against float64 references.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/backend/cpu/ops.h"

using namespace stemma::cpu;

namespace {

// Largest |out - reference| / max |reference| of rms_norm on x with unit weights.
double rms_norm_error(const std::vector<float>& x, float eps) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> w(x.size(), 1.0f), out(x.size());
  rms_norm(x.data(), w.data(), n, eps, out.data());
  double ss = 0;
  for (float v : x) ss += static_cast<double>(v) * v;
  const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
  double err = 0, max_ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = x[i] * inv;
    err = std::max(err, std::fabs(out[i] - ref));
    max_ref = std::max(max_ref, std::fabs(ref));
  }
  return err / max_ref;
}

}  // namespace

TEST_CASE("rms_norm keeps its scale exact to float rounding at real hidden sizes") {
  // Uniform values: a sequential float32 sum of 8192 squares drifts by ~sqrt(n) ulps.
  std::vector<float> x(8192);
  uint64_t s = 12345;
  for (float& v : x) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>(static_cast<double>(s >> 40) / static_cast<double>(1ull << 24)) - 0.5f;
  }
  CHECK(rms_norm_error(x, 1e-6f) < 3e-7);

  // A few large features (as trained models' hidden states have): in a float32 running sum the
  // small squares fall below half an ulp and vanish, here 1e-4 of the total.
  std::vector<float> y(2048, 0.014f);
  y[0] = 64.0f;
  CHECK(rms_norm_error(y, 1e-5f) < 3e-7);
}
