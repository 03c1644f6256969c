// Attention over an attention plan's items (attention_item.h) for any element type (fp32, fp16,
// bf16) and head dim (even, <= 256): the portable path of the CUDA backend. paged_attention.h is
// the fast path (fp16/bf16, head dims 64 and 128, tensor cores); this one runs what it cannot
// (fp32 models, other head dims) and checks it. Same states: per (state, q head) the normalized
// partial output and the log2-sum-exp2 of the scaled scores.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/attention_item.h"
#include "kernels/weight_formats.h"

namespace stemma::kernels {

struct PlanAttentionParams {
  ElemType type = ElemType::kF32;  // of q and the KV pages
  const void* q = nullptr;         // [token][q_head][D], token stride q_token_stride
  int64_t q_token_stride = 0;
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  int64_t page_stride = 0;
  const int32_t* page_ids = nullptr;
  const PagedAttnItem* items = nullptr;
  int32_t num_items = 0;
  const int32_t* member_token = nullptr;
  const int32_t* member_pos = nullptr;
  float* state_o = nullptr;    // [num_states][num_q_heads][D]
  float* state_lse = nullptr;  // [num_states][num_q_heads]
  int32_t num_q_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t page_size = 0;
  float sm_scale = 0.f;
};
cudaError_t launch_plan_attention(const PlanAttentionParams& p, cudaStream_t stream);

// Merges each token's partial states by log-sum-exp weighting into out [token][q_head][D] of
// out_type (token stride out_token_stride). A token with no finite state gets zeros.
struct MergeAnyParams {
  const float* state_o = nullptr;
  const float* state_lse = nullptr;
  const int32_t* token_state_begin = nullptr;  // num_tokens + 1
  const int32_t* token_states = nullptr;
  ElemType out_type = ElemType::kF32;
  void* out = nullptr;
  int64_t out_token_stride = 0;
  int32_t num_tokens = 0;
  int32_t num_q_heads = 0;
  int32_t head_dim = 0;
};
cudaError_t launch_merge_states_any(const MergeAnyParams& p, cudaStream_t stream);

}  // namespace stemma::kernels
