// Uploads an attention plan (engine/attn) and runs the paged attention + merge kernels on it:
// what the CUDA backend does each step, shared by the kernel tests and the benchmark.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/attn/attention_plan.h"
#include "kernels/paged_attention.h"

namespace stemma::kernels::testing {

struct DevicePlan {
  PagedAttnItem* items = nullptr;
  int32_t* page_ids = nullptr;
  int32_t* member_token = nullptr;
  int32_t* member_pos = nullptr;
  int32_t* token_state_begin = nullptr;
  int32_t* token_states = nullptr;
  float* state_o = nullptr;
  float* state_lse = nullptr;
  int32_t num_items = 0;
  int32_t num_tokens = 0;

  DevicePlan() = default;
  DevicePlan(const DevicePlan&) = delete;
  DevicePlan& operator=(const DevicePlan&) = delete;
  ~DevicePlan() {
    for (void* p : {static_cast<void*>(items), static_cast<void*>(page_ids),
                    static_cast<void*>(member_token), static_cast<void*>(member_pos),
                    static_cast<void*>(token_state_begin), static_cast<void*>(token_states),
                    static_cast<void*>(state_o), static_cast<void*>(state_lse)}) {
      cudaFree(p);
    }
  }
};

template <typename T>
inline cudaError_t upload_vec(T** dst, const std::vector<T>& v) {
  cudaError_t e = cudaMalloc(dst, std::max<size_t>(v.size(), 1) * sizeof(T));
  if (e != cudaSuccess || v.empty()) return e;
  return cudaMemcpy(*dst, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice);
}

inline cudaError_t upload_plan(const attn::AttentionPlan& plan, int32_t num_q_heads,
                               int32_t head_dim, DevicePlan& d) {
  const std::vector<PagedAttnItem>& items = plan.items;  // the kernels' own type
  d.num_items = static_cast<int32_t>(items.size());
  d.num_tokens = plan.num_query_tokens;
  cudaError_t e;
  if ((e = upload_vec(&d.items, items)) != cudaSuccess) return e;
  if ((e = upload_vec(&d.page_ids, plan.page_ids)) != cudaSuccess) return e;
  if ((e = upload_vec(&d.member_token, plan.member_token)) != cudaSuccess) return e;
  if ((e = upload_vec(&d.member_pos, plan.member_pos)) != cudaSuccess) return e;
  if ((e = upload_vec(&d.token_state_begin, plan.token_state_begin)) != cudaSuccess) return e;
  if ((e = upload_vec(&d.token_states, plan.token_states)) != cudaSuccess) return e;
  const size_t states = std::max<size_t>(plan.num_states, 1);
  if ((e = cudaMalloc(&d.state_o, states * num_q_heads * head_dim * sizeof(float))) != cudaSuccess)
    return e;
  return cudaMalloc(&d.state_lse, states * num_q_heads * sizeof(float));
}

struct AttentionTensors {
  DType dtype = DType::kF16;
  const void* q = nullptr;
  int64_t q_token_stride = 0;
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  int64_t page_stride = 0;
  void* out = nullptr;
  int64_t out_token_stride = 0;
  int32_t num_q_heads = 0, num_kv_heads = 0, head_dim = 0, page_size = 0;
  bool mma_sync_only = false;  // kernel variant (paged_attention.h)
};

inline PagedAttnParams attention_params(const DevicePlan& d, const AttentionTensors& t) {
  PagedAttnParams p;
  p.dtype = t.dtype;
  p.q = t.q;
  p.q_token_stride = t.q_token_stride;
  p.k_cache = t.k_cache;
  p.v_cache = t.v_cache;
  p.page_stride = t.page_stride;
  p.page_ids = d.page_ids;
  p.items = d.items;
  p.num_items = d.num_items;
  p.member_token = d.member_token;
  p.member_pos = d.member_pos;
  p.state_o = d.state_o;
  p.state_lse = d.state_lse;
  p.num_q_heads = t.num_q_heads;
  p.num_kv_heads = t.num_kv_heads;
  p.head_dim = t.head_dim;
  p.page_size = t.page_size;
  p.sm_scale = 1.f / std::sqrt(static_cast<float>(t.head_dim));
  p.mma_sync_only = t.mma_sync_only;
  return p;
}

inline MergeStatesParams merge_params(const DevicePlan& d, const AttentionTensors& t) {
  MergeStatesParams m;
  m.dtype = t.dtype;
  m.state_o = d.state_o;
  m.state_lse = d.state_lse;
  m.token_state_begin = d.token_state_begin;
  m.token_states = d.token_states;
  m.out = t.out;
  m.out_token_stride = t.out_token_stride;
  m.num_tokens = d.num_tokens;
  m.num_q_heads = t.num_q_heads;
  m.head_dim = t.head_dim;
  return m;
}

inline cudaError_t run_plan(const DevicePlan& d, const AttentionTensors& t, cudaStream_t stream) {
  cudaError_t e = launch_paged_attention(attention_params(d, t), stream);
  if (e != cudaSuccess) return e;
  return launch_merge_states(merge_params(d, t), stream);
}

}  // namespace stemma::kernels::testing
