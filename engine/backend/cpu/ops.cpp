#include "engine/backend/cpu/ops.h"

#include <cmath>

namespace stemma::cpu {

void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  // The sum of squares accumulates in double. A sequential float32 sum over a hidden size of
  // thousands loses ~sqrt(n) ulps (and everything below half an ulp of the running sum when a
  // few features are large); that scale error multiplies the attention scores, which a sharp
  // softmax amplifies: on the Llama-3.2-1B shape it put logits 4.7e-5 of max |logit| from HF at
  // position 511, against 6.3e-6 now (docs/model.md, "Real sizes"). HF reduces in float32 with
  // a tree, whose error stays near one ulp.
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * inv);
}

void add_row_bias(float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) x[r * cols + j] += bias[j];
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void Rope::apply(float* v, int64_t pos) const {
  const int64_t half = head_dim_ / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq_[static_cast<size_t>(i)];
    // As HF: cos/sin of the float32 angle, times the attention factor, in float32.
    const float c = std::cos(angle) * attention_factor_, s = std::sin(angle) * attention_factor_;
    const int64_t a = interleaved_ ? 2 * i : i;
    const int64_t b = interleaved_ ? 2 * i + 1 : i + half;
    const float x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x1 * c + x0 * s;
  }
}

}  // namespace stemma::cpu
