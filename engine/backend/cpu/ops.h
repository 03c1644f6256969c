// Element-wise and per-vector operations of the transformer block (float32 throughout, in the
// order HF transformers computes them, so results agree with its float32 logits).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"

namespace stemma::cpu {

// out = x / sqrt(mean(x^2) + eps) * weight; out may alias x.
void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out);

// x[r][j] += bias[j] for r < rows, j < cols (a linear layer's bias).
void add_row_bias(float* x, const float* bias, int64_t rows, int64_t cols);

// out[i] = silu(gate[i]) * up[i]; out may alias either input.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

// Rotary position embedding of one head vector: pairs (i, i + d/2) (HF "rotate half") or
// (2i, 2i+1) (GGUF llama's permuted rows), angle = pos * inv_freq[i] in float32 as HF computes.
class Rope {
 public:
  Rope() = default;
  // `inv_freq` has head_dim / 2 entries (engine/model/rope.h computes them, scaling included).
  // `attention_factor` multiplies cos and sin (HF's attention_scaling; 1 except for yarn).
  Rope(const ModelConfig& config, std::vector<float> inv_freq, float attention_factor = 1.0f)
      : head_dim_(config.head_dim),
        interleaved_(config.rope_interleaved),
        attention_factor_(attention_factor),
        inv_freq_(std::move(inv_freq)) {}
  // Rotates one head vector (head_dim floats) to position `pos` in place.
  void apply(float* v, int64_t pos) const;

 private:
  int64_t head_dim_ = 0;
  bool interleaved_ = false;
  float attention_factor_ = 1.0f;
  std::vector<float> inv_freq_;  // head_dim / 2
};

}  // namespace stemma::cpu
