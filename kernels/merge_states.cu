// Log-sum-exp merge of partial attention states (see paged_attention.h), and the KV append.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/paged_attention.h"

namespace stemma::kernels {
namespace {

template <typename T>
__device__ T from_float(float x);
template <>
__device__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// One block per (token, head); one thread per output element. A token may have hundreds of
// states (a long context split across blocks): the block walks them in chunks of blockDim, each
// thread loading one state's log-sum-exp, so the dependent index -> lse loads of a chunk are in
// flight together instead of one after another; the chunk's weights go through shared memory and
// the output loop reads them with independent, unrolled loads of state_o.
constexpr int kMergeMaxThreads = 128;  // head_dim <= 128 (launch_merge_states checks)

template <typename T>
__global__ void merge_states_kernel(MergeStatesParams p) {
  __shared__ float w_s[kMergeMaxThreads];
  __shared__ int32_t slot_s[kMergeMaxThreads];
  __shared__ float red_s[kMergeMaxThreads / 32];
  const int token = blockIdx.x;
  const int head = blockIdx.y;
  const int d = threadIdx.x;
  const int lane = d & 31, warp = d >> 5, warps = (blockDim.x + 31) >> 5;
  // Launched as a programmatic dependent of the preceding kernel (launch_merge_states): the
  // launch overlaps that kernel's tail, and nothing is read before this wait for its completion
  // (the CSR too: a kernel may have written it). A no-op when nothing precedes it that way.
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
  const int begin = p.token_state_begin[token];
  const int end = p.token_state_begin[token + 1];

  // The first chunk's slot and lse stay in registers for the second pass (usually the only one).
  float mmax = -INFINITY, first_lse = -INFINITY;
  int32_t first_slot = 0;
  for (int c = begin; c < end; c += blockDim.x) {
    if (c + d < end) {
      const int32_t slot = p.token_states[c + d];
      const float lse = p.state_lse[static_cast<int64_t>(slot) * p.num_q_heads + head];
      if (c == begin) {
        first_slot = slot;
        first_lse = lse;
      }
      mmax = fmaxf(mmax, lse);
    }
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    mmax = fmaxf(mmax, __shfl_xor_sync(0xffffffffu, mmax, off));
  }
  if (lane == 0) red_s[warp] = mmax;
  __syncthreads();
  mmax = red_s[0];
  for (int w = 1; w < warps; ++w) mmax = fmaxf(mmax, red_s[w]);

  float wsum = 0.f, acc = 0.f;
  if (mmax != -INFINITY) {
    for (int c = begin; c < end; c += blockDim.x) {
      const int n = min(static_cast<int>(blockDim.x), end - c);
      __syncthreads();  // the previous chunk's weights are consumed
      if (d < n) {
        const int32_t slot = c == begin ? first_slot : p.token_states[c + d];
        const float lse =
            c == begin ? first_lse : p.state_lse[static_cast<int64_t>(slot) * p.num_q_heads + head];
        slot_s[d] = slot;
        w_s[d] = exp2f(lse - mmax);
      }
      __syncthreads();
      // Unrolled so that 32 independent state_o loads are in flight: a 32k context has 30-70
      // states per token and head, and one load after another made this kernel cost ~7 us.
#pragma unroll 32
      for (int i = 0; i < n; ++i) {
        const float w = w_s[i];
        wsum += w;
        acc += w *
               p.state_o[(static_cast<int64_t>(slot_s[i]) * p.num_q_heads + head) * p.head_dim + d];
      }
    }
  }
  T* out = static_cast<T*>(p.out);
  out[token * p.out_token_stride + static_cast<int64_t>(head) * p.head_dim + d] =
      from_float<T>(wsum > 0.f ? acc / wsum : 0.f);
  if (p.out_lse != nullptr && d == 0) {
    p.out_lse[static_cast<int64_t>(token) * p.num_q_heads + head] =
        wsum > 0.f ? mmax + log2f(wsum) : -INFINITY;
  }
}

template <typename T>
__global__ void kv_append_kernel(KvAppendParams p) {
  const int token = blockIdx.x;
  const int chunks = p.num_kv_heads * p.head_dim / 8;  // 16-byte chunks per token
  const int64_t slot = p.slot_mapping[token];
  if (slot < 0) return;  // padding token: nothing to store
  const int64_t page = slot / p.page_size;
  const int64_t in_page = slot % p.page_size;
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
    const int head = c / (p.head_dim / 8);
    const int dc = c % (p.head_dim / 8);
    const int64_t src =
        token * p.new_token_stride + static_cast<int64_t>(head) * p.head_dim + dc * 8;
    const int64_t dst = page * p.page_stride + (head * p.page_size + in_page) * p.head_dim + dc * 8;
    *reinterpret_cast<uint4*>(static_cast<T*>(p.k_cache) + dst) =
        *reinterpret_cast<const uint4*>(static_cast<const T*>(p.k_new) + src);
    *reinterpret_cast<uint4*>(static_cast<T*>(p.v_cache) + dst) =
        *reinterpret_cast<const uint4*>(static_cast<const T*>(p.v_new) + src);
  }
}

}  // namespace

cudaError_t launch_merge_states(const MergeStatesParams& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  // One thread per output element; the chunked state walk needs whole warps.
  if (p.head_dim <= 0 || p.head_dim > kMergeMaxThreads || p.head_dim % 32 != 0 ||
      p.num_q_heads <= 0) {
    return cudaErrorInvalidValue;
  }
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(p.num_tokens), static_cast<unsigned>(p.num_q_heads));
  config.blockDim = dim3(static_cast<unsigned>(p.head_dim));
  config.stream = stream;
  cudaLaunchAttribute attr = {};
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attr;
  config.numAttrs = 1;
  cudaError_t err = p.dtype == DType::kF16
                        ? cudaLaunchKernelEx(&config, merge_states_kernel<__half>, p)
                        : cudaLaunchKernelEx(&config, merge_states_kernel<__nv_bfloat16>, p);
  if (err != cudaSuccess) return err;
  return cudaGetLastError();
}

cudaError_t launch_kv_append(const KvAppendParams& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  if (p.head_dim % 8 != 0 || p.page_size <= 0 || p.new_token_stride % 8 != 0 ||
      p.page_stride % 8 != 0) {
    return cudaErrorInvalidValue;
  }
  if (p.dtype == DType::kF16) {
    kv_append_kernel<__half><<<p.num_tokens, 128, 0, stream>>>(p);
  } else {
    kv_append_kernel<__nv_bfloat16><<<p.num_tokens, 128, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace stemma::kernels
