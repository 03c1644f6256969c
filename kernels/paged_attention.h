// Paged attention over work items: one kernel runs plain decode (FlashDecoding-style split-KV),
// the shared-prefix decode (one KV tile load serves every query of a group) and causal prefill
// over a cached prefix. The host plan (engine/attn) decides the items; the kernel only executes.
//
// KV cache: page p of a layer holds `page_size` positions laid out [kv_head][slot][head_dim]
// (HND) at k_cache + p * page_stride (same for v_cache). page_size must be a multiple of 16.
// Q and the output are [token][q_head][head_dim] with q_head stride head_dim.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/attention_item.h"

namespace stemma::kernels {

enum class DType : int32_t { kF16 = 0, kBF16 = 1 };

struct PagedAttnParams {
  DType dtype = DType::kF16;  // of q, KV cache and the merged output
  const void* q = nullptr;
  int64_t q_token_stride = 0;  // elements between consecutive tokens of q
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  int64_t page_stride = 0;  // elements between consecutive pages (>= num_kv_heads*page_size*D)
  const int32_t* page_ids = nullptr;
  const PagedAttnItem* items = nullptr;  // device array
  int32_t num_items = 0;
  const int32_t* member_token = nullptr;  // q token index of each member
  const int32_t* member_pos = nullptr;    // absolute position of each member's query (causal)
  float* state_o = nullptr;    // [num_states][num_q_heads][head_dim], normalized partial outputs
  float* state_lse = nullptr;  // [num_states][num_q_heads], log2-sum-exp2 of scaled scores
  int32_t num_q_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;  // 64 or 128
  int32_t page_size = 0;
  float sm_scale = 0.f;        // usually 1/sqrt(head_dim)
  bool mma_sync_only = false;  // kernel variant: mma.sync also for items of > 32 rows (no wgmma)
};

// Resident blocks per SM of the attention kernel (the plan's cost model needs it); 0 on error.
int paged_attention_blocks_per_sm(DType dtype, int32_t head_dim);

// Runs every item. Returns the launch error, or cudaErrorInvalidValue for unsupported shapes.
// Items breaking the PagedAttnItem rules (more than kPagedAttnMaxRows rows, an empty range) are
// skipped and their state slots left unwritten: the plan builder (engine/attn) never makes them.
cudaError_t launch_paged_attention(const PagedAttnParams& p, cudaStream_t stream);

// Merges the partial states of each token into the output by log-sum-exp weighting.
struct MergeStatesParams {
  DType dtype = DType::kF16;
  const float* state_o = nullptr;
  const float* state_lse = nullptr;
  const int32_t* token_state_begin = nullptr;  // CSR offsets, num_tokens + 1 entries
  const int32_t* token_states = nullptr;       // state slots of each token
  void* out = nullptr;                         // [token][num_q_heads][head_dim]
  int64_t out_token_stride = 0;
  float* out_lse = nullptr;  // optional [num_tokens][num_q_heads] (log2 domain)
  int32_t num_tokens = 0;
  int32_t num_q_heads = 0;
  int32_t head_dim = 0;
};

// Launched as a programmatic dependent (PDL) of the preceding kernel on the stream, which hides
// its launch latency; it reads nothing before that kernel completes, so any producer is safe.
cudaError_t launch_merge_states(const MergeStatesParams& p, cudaStream_t stream);

// Writes K/V of new tokens into their page slots: k_new/v_new [token][kv_head][head_dim],
// slot_mapping[t] = page * page_size + slot.
struct KvAppendParams {
  DType dtype = DType::kF16;
  const void* k_new = nullptr;
  const void* v_new = nullptr;
  int64_t new_token_stride = 0;  // elements between tokens of k_new / v_new
  void* k_cache = nullptr;
  void* v_cache = nullptr;
  int64_t page_stride = 0;
  const int32_t* slot_mapping = nullptr;
  int32_t num_tokens = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t page_size = 0;
};

cudaError_t launch_kv_append(const KvAppendParams& p, cudaStream_t stream);

}  // namespace stemma::kernels
