// Element-wise and row-wise kernels of a llama-family forward pass: RMSNorm (with the residual
// add fused), rotary embedding, SwiGLU, embedding gather. Activations are [rows][dim] in fp16 or
// bf16 with a row stride in elements; arithmetic is fp32.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/paged_attention.h"  // DType

namespace stemma::kernels {

// out = x * rsqrt(mean(x^2) + eps) * weight. If `residual` is given: residual += x first and the
// sum is normalised (the pre-norm residual stream of llama models; residual is updated in place).
// dim must be a multiple of 8; strides in elements, multiples of 8.
struct RmsNormParams {
  DType dtype = DType::kF16;
  void* out = nullptr;
  int64_t out_stride = 0;
  const void* x = nullptr;
  int64_t x_stride = 0;
  void* residual = nullptr;  // optional
  int64_t residual_stride = 0;
  const void* weight = nullptr;  // [dim], same dtype
  int32_t rows = 0;
  int32_t dim = 0;
  float eps = 1e-5f;
};
cudaError_t launch_rms_norm(const RmsNormParams& p, cudaStream_t stream);

enum class RopeStyle : int32_t {
  kRotateHalf = 0,   // HF llama: pairs (i, i + D/2)
  kInterleaved = 1,  // GPT-J / original llama (GGUF): pairs (2i, 2i + 1)
};

// Rotates q [tokens][q_heads][D] and k [tokens][kv_heads][D] in place by position. inv_freq has
// D/2 fp32 entries (rope_inv_freq computes them, scaling included).
struct RopeParams {
  DType dtype = DType::kF16;
  RopeStyle style = RopeStyle::kRotateHalf;
  void* q = nullptr;
  int64_t q_token_stride = 0;
  void* k = nullptr;  // may be null
  int64_t k_token_stride = 0;
  const int32_t* positions = nullptr;  // [tokens]
  const float* inv_freq = nullptr;     // [head_dim / 2], device
  int32_t tokens = 0;
  int32_t q_heads = 0;
  int32_t kv_heads = 0;
  int32_t head_dim = 0;
};
cudaError_t launch_rope(const RopeParams& p, cudaStream_t stream);

struct RopeScaling {
  enum class Kind { kNone, kLinear, kLlama3 } kind = Kind::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_position = 8192.0;
};

// inv_freq[i] = theta^(-2i/D), adjusted by the scaling (Llama 3's smooth frequency-dependent
// interpolation, as HF transformers' _compute_llama3_parameters does it).
inline std::vector<float> rope_inv_freq(int32_t head_dim, double theta, const RopeScaling& s) {
  std::vector<float> out(head_dim / 2);
  const double pi = 3.14159265358979323846;
  for (int32_t i = 0; i < head_dim / 2; ++i) {
    double f = 1.0 / std::pow(theta, 2.0 * i / head_dim);
    if (s.kind == RopeScaling::Kind::kLinear) {
      f /= s.factor;
    } else if (s.kind == RopeScaling::Kind::kLlama3) {
      const double low_wavelen = s.original_max_position / s.low_freq_factor;
      const double high_wavelen = s.original_max_position / s.high_freq_factor;
      const double wavelen = 2 * pi / f;
      if (wavelen > low_wavelen) {
        f = f / s.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (s.original_max_position / wavelen - s.low_freq_factor) /
                              (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
    out[i] = static_cast<float>(f);
  }
  return out;
}

// out[t][i] = silu(gate[t][i]) * up[t][i], i < dim.
struct SwiGluParams {
  DType dtype = DType::kF16;
  void* out = nullptr;
  int64_t out_stride = 0;
  const void* gate = nullptr;
  int64_t gate_stride = 0;
  const void* up = nullptr;
  int64_t up_stride = 0;
  int32_t rows = 0;
  int32_t dim = 0;  // multiple of 8
};
cudaError_t launch_swiglu(const SwiGluParams& p, cudaStream_t stream);

// out[t] = table[ids[t]]; ids outside [0, vocab) give a zero row (the host validates ids first).
struct EmbeddingParams {
  DType dtype = DType::kF16;
  void* out = nullptr;
  int64_t out_stride = 0;
  const void* table = nullptr;  // [vocab][dim]
  int64_t table_stride = 0;
  const int32_t* ids = nullptr;
  int32_t tokens = 0;
  int32_t vocab = 0;
  int32_t dim = 0;  // multiple of 8
};
cudaError_t launch_embedding(const EmbeddingParams& p, cudaStream_t stream);

}  // namespace stemma::kernels
