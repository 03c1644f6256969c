#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "kernels/plan_attention.h"

namespace stemma::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kMaxPerLane = 8;  // head_dim <= 256

__device__ __forceinline__ float load(const void* base, int64_t i, ElemType t) {
  switch (t) {
    case ElemType::kF32:
      return static_cast<const float*>(base)[i];
    case ElemType::kF16:
      return __half2float(static_cast<const __half*>(base)[i]);
    default:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
  }
}

__device__ __forceinline__ void store(void* base, int64_t i, ElemType t, float v) {
  switch (t) {
    case ElemType::kF32:
      static_cast<float*>(base)[i] = v;
      break;
    case ElemType::kF16:
      static_cast<__half*>(base)[i] = __float2half_rn(v);
      break;
    default:
      static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
      break;
  }
}

// Grid (item, kv head); each warp takes query rows (member, q head of the group) in turn and
// runs an online softmax over the item's KV range, keys in position order.
__global__ void plan_attention_kernel(PlanAttentionParams p) {
  const PagedAttnItem it = p.items[blockIdx.x];
  const int kv_head = blockIdx.y;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int D = p.head_dim;
  const float scale = p.sm_scale * 1.4426950408889634f;  // scores in log2 units
  for (int row = warp; row < it.num_members * group; row += kWarps) {
    const int m = row / group, g = row % group;
    const int q_head = kv_head * group + g;
    const int32_t token = p.member_token[it.member_offset + m];
    const int32_t qpos = p.member_pos[it.member_offset + m];
    float q[kMaxPerLane], acc[kMaxPerLane];
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int d = lane + 32 * i;
      q[i] =
          d < D ? load(p.q, token * p.q_token_stride + static_cast<int64_t>(q_head) * D + d, p.type)
                : 0.f;
      acc[i] = 0.f;
    }
    float mx = -INFINITY, sum = 0.f;
    for (int32_t j = it.kv_begin; j < it.kv_end; ++j) {
      if (it.kv_pos_offset + j > qpos) break;  // causal: keys after the query
      const int64_t page = p.page_ids[it.page_offset + j / p.page_size];
      const int64_t base = page * p.page_stride +
                           (static_cast<int64_t>(kv_head) * p.page_size + j % p.page_size) * D;
      float s = 0.f;
      for (int i = 0; i < kMaxPerLane; ++i) {
        const int d = lane + 32 * i;
        if (d < D) s += q[i] * load(p.k_cache, base + d, p.type);
      }
      for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
      s *= scale;
      const float mnew = fmaxf(mx, s);
      const float corr = exp2f(mx - mnew);  // 0 on the first key (mx = -inf)
      const float w = exp2f(s - mnew);
      sum = sum * corr + w;
      for (int i = 0; i < kMaxPerLane; ++i) {
        const int d = lane + 32 * i;
        acc[i] = acc[i] * corr + (d < D ? w * load(p.v_cache, base + d, p.type) : 0.f);
      }
      mx = mnew;
    }
    const int64_t state = it.state_offset + m;
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < D) p.state_o[(state * p.num_q_heads + q_head) * D + d] = acc[i] * inv;
    }
    if (lane == 0)
      p.state_lse[state * p.num_q_heads + q_head] = sum > 0.f ? mx + log2f(sum) : -INFINITY;
  }
}

// Grid (token, q head); threads over D.
__global__ void merge_any_kernel(MergeAnyParams p) {
  const int64_t token = blockIdx.x;
  const int head = blockIdx.y;
  const int32_t begin = p.token_state_begin[token], end = p.token_state_begin[token + 1];
  float mx = -INFINITY;
  for (int32_t c = begin; c < end; ++c)
    mx = fmaxf(mx, p.state_lse[static_cast<int64_t>(p.token_states[c]) * p.num_q_heads + head]);
  for (int d = threadIdx.x; d < p.head_dim; d += blockDim.x) {
    float o = 0.f, wsum = 0.f;
    if (mx != -INFINITY) {
      for (int32_t c = begin; c < end; ++c) {
        const int64_t s = p.token_states[c];
        const float w = exp2f(p.state_lse[s * p.num_q_heads + head] - mx);
        wsum += w;
        o += w * p.state_o[(s * p.num_q_heads + head) * p.head_dim + d];
      }
    }
    store(p.out, token * p.out_token_stride + static_cast<int64_t>(head) * p.head_dim + d,
          p.out_type, wsum > 0.f ? o / wsum : 0.f);
  }
}

}  // namespace

cudaError_t launch_plan_attention(const PlanAttentionParams& p, cudaStream_t stream) {
  if (p.num_items == 0) return cudaSuccess;
  if (p.num_items < 0 || p.head_dim <= 0 || p.head_dim > 32 * kMaxPerLane || p.page_size <= 0 ||
      p.num_kv_heads <= 0 || p.num_q_heads % p.num_kv_heads != 0) {
    return cudaErrorInvalidValue;
  }
  dim3 grid(static_cast<unsigned>(p.num_items), static_cast<unsigned>(p.num_kv_heads));
  plan_attention_kernel<<<grid, kWarps * 32, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_merge_states_any(const MergeAnyParams& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  if (p.num_tokens < 0 || p.num_q_heads <= 0 || p.head_dim <= 0) return cudaErrorInvalidValue;
  dim3 grid(static_cast<unsigned>(p.num_tokens), static_cast<unsigned>(p.num_q_heads));
  merge_any_kernel<<<grid, p.head_dim >= 128 ? 128 : 64, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace stemma::kernels
