// The element-wise steps of a transformer layer around its matmuls, for a forward pass that
// keeps the residual stream in fp32 (as llama.cpp does): matmul outputs arrive in fp32, inputs
// to the next matmul leave in the compute type (fp32, fp16 or bf16). Launchers return
// cudaErrorInvalidValue for shapes they do not support; they never read out of bounds.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/weight_formats.h"

namespace stemma::kernels {

// out[t] = table[ids[t]] as fp32 rows of table.cols values (embedding lookup of any weight
// format). ids outside [0, rows) give zero rows (the host validates ids first).
cudaError_t launch_embed_rows(const WeightMatrix& table, const int32_t* ids, int32_t tokens,
                              float* out, cudaStream_t stream);

// Rows [row_begin, row_begin + num_rows) of `w` as 16-bit values (fp16 or bf16) into `out`
// ([num_rows][cols]): the transient expansion a prefill GEMM reads, never kept.
cudaError_t launch_dequantize_rows(const WeightMatrix& w, int64_t row_begin, int64_t num_rows,
                                   ElemType out_type, void* out, cudaStream_t stream);

// Residual add and RMSNorm of rows, HF's order of operations (fp32 throughout):
//   i = row_ids ? row_ids[r] : r
//   if delta: x[i] += delta[i] (+ delta_bias)        (the previous matmul's output and bias)
//   out[r] = x[i] / sqrt(mean(x[i]^2) + eps) * weight, in out_type
// With row_ids only the listed rows are updated (the final norm over the rows that need logits).
struct ResidualNormParams {
  float* x = nullptr;  // [rows][dim], row stride dim
  const float* delta = nullptr;
  const float* delta_bias = nullptr;  // [dim], optional (needs delta)
  const float* weight = nullptr;      // [dim]
  const int32_t* row_ids = nullptr;   // optional
  ElemType out_type = ElemType::kBF16;
  void* out = nullptr;  // [rows][dim]
  int32_t rows = 0;
  int32_t dim = 0;
  float eps = 1e-6f;
};
cudaError_t launch_residual_norm(const ResidualNormParams& p, cudaStream_t stream);

enum class RopeLayout : int32_t {
  kHalves = 0,       // HF: pairs (i, i + D/2)
  kInterleaved = 1,  // GGUF llama: pairs (2i, 2i + 1)
};

// After the fused QKV matmul: per token, adds the biases, applies the per-head q/k RMSNorm
// (Qwen3), rotates q and k to the token's position (angle = pos * inv_freq[i] in fp32, cos/sin
// times attention_factor, as HF computes them), then writes q for attention and k, v into their
// KV page slot. qkv is [tokens][q_heads*D + 2*kv_heads*D] fp32.
struct QkvRopeParams {
  const float* qkv = nullptr;
  const float* bias = nullptr;    // [q + k + v widths], optional
  const float* q_norm = nullptr;  // [D], optional (with k_norm)
  const float* k_norm = nullptr;
  float norm_eps = 1e-6f;
  const int32_t* positions = nullptr;  // [tokens]
  const float* inv_freq = nullptr;     // [D / 2]
  float attention_factor = 1.f;
  RopeLayout layout = RopeLayout::kHalves;
  ElemType q_type = ElemType::kBF16;  // q out: [tokens][q_heads][D]
  void* q_out = nullptr;
  ElemType kv_type = ElemType::kBF16;  // pages: [page][kv_head][slot][D]
  void* k_cache = nullptr;
  void* v_cache = nullptr;
  int64_t page_stride = 0;                // elements between pages
  const int32_t* slot_mapping = nullptr;  // [tokens]: page * page_size + slot
  int32_t page_size = 0;
  int32_t tokens = 0;
  int32_t q_heads = 0;
  int32_t kv_heads = 0;
  int32_t head_dim = 0;  // even, <= 256
};
cudaError_t launch_qkv_rope(const QkvRopeParams& p, cudaStream_t stream);

// out[t][i] = silu(g + bg) * (u + bu) for gate_up [tokens][2 * dim] fp32 (gate columns first),
// out in out_type [tokens][dim].
struct SwiGluF32Params {
  const float* gate_up = nullptr;
  const float* bias = nullptr;  // [2 * dim], optional
  ElemType out_type = ElemType::kBF16;
  void* out = nullptr;
  int32_t tokens = 0;
  int32_t dim = 0;
};
cudaError_t launch_swiglu_f32(const SwiGluF32Params& p, cudaStream_t stream);

// Copies the first `num_slots` slots of page `src` to page `dst` for every KV head, in every
// layer (copy-on-write of a partly shared page). Caches are [layer] * layer_stride elements.
struct CopyPageParams {
  void* k_cache = nullptr;
  void* v_cache = nullptr;
  ElemType kv_type = ElemType::kBF16;
  int64_t layer_stride = 0;  // elements between layers
  int64_t page_stride = 0;   // elements between pages
  int32_t layers = 0;
  int32_t kv_heads = 0;
  int32_t page_size = 0;
  int32_t head_dim = 0;
  int32_t src = 0;
  int32_t dst = 0;
  int32_t num_slots = 0;
};
cudaError_t launch_copy_page(const CopyPageParams& p, cudaStream_t stream);

}  // namespace stemma::kernels
