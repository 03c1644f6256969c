#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <type_traits>

#include "kernels/forward_ops.h"

namespace stemma::kernels {
namespace {

// 8 values of a 16-byte vector, converted to and from fp32.
template <typename T>
struct Vec8 {
  uint4 raw;
  __device__ float get(int i) const {
    const T* e = reinterpret_cast<const T*>(&raw);
    if constexpr (std::is_same_v<T, __half>) {
      return __half2float(e[i]);
    } else {
      return __bfloat162float(e[i]);
    }
  }
  __device__ void set(int i, float v) {
    T* e = reinterpret_cast<T*>(&raw);
    if constexpr (std::is_same_v<T, __half>) {
      e[i] = __float2half_rn(v);
    } else {
      e[i] = __float2bfloat16_rn(v);
    }
  }
};

template <typename T>
__device__ Vec8<T> load8(const void* base, int64_t elem) {
  Vec8<T> v;
  v.raw = *reinterpret_cast<const uint4*>(static_cast<const T*>(base) + elem);
  return v;
}
template <typename T>
__device__ void store8(void* base, int64_t elem, const Vec8<T>& v) {
  *reinterpret_cast<uint4*>(static_cast<T*>(base) + elem) = v.raw;
}

__device__ float block_sum(float v, float* scratch) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) t += scratch[w];
  __syncthreads();
  return t;
}

template <typename T>
__global__ void rms_norm_kernel(RmsNormParams p) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  float ss = 0.f;
  for (int c = threadIdx.x; c < p.dim / 8; c += blockDim.x) {
    Vec8<T> x = load8<T>(p.x, row * p.x_stride + c * 8);
    if (p.residual != nullptr) {
      Vec8<T> r = load8<T>(p.residual, row * p.residual_stride + c * 8);
      for (int i = 0; i < 8; ++i) r.set(i, r.get(i) + x.get(i));
      store8<T>(p.residual, row * p.residual_stride + c * 8, r);
      x = r;  // normalise the rounded sum, as the next layer will read it
    }
    for (int i = 0; i < 8; ++i) ss += x.get(i) * x.get(i);
  }
  const float inv = rsqrtf(block_sum(ss, scratch) / p.dim + p.eps);
  for (int c = threadIdx.x; c < p.dim / 8; c += blockDim.x) {
    const Vec8<T> x = p.residual != nullptr ? load8<T>(p.residual, row * p.residual_stride + c * 8)
                                            : load8<T>(p.x, row * p.x_stride + c * 8);
    const Vec8<T> w = load8<T>(p.weight, c * 8);
    Vec8<T> o;
    for (int i = 0; i < 8; ++i) o.set(i, x.get(i) * inv * w.get(i));
    store8<T>(p.out, row * p.out_stride + c * 8, o);
  }
}

template <typename T>
__device__ void rope_head(T* h, int32_t pos, const float* inv_freq, int D, RopeStyle style) {
  for (int i = threadIdx.x; i < D / 2; i += blockDim.x) {
    float s, c;
    sincosf(static_cast<float>(pos) * inv_freq[i], &s, &c);
    const int a = style == RopeStyle::kRotateHalf ? i : 2 * i;
    const int b = style == RopeStyle::kRotateHalf ? i + D / 2 : 2 * i + 1;
    float x0, x1;
    if constexpr (std::is_same_v<T, __half>) {
      x0 = __half2float(h[a]);
      x1 = __half2float(h[b]);
      h[a] = __float2half_rn(x0 * c - x1 * s);
      h[b] = __float2half_rn(x1 * c + x0 * s);
    } else {
      x0 = __bfloat162float(h[a]);
      x1 = __bfloat162float(h[b]);
      h[a] = __float2bfloat16_rn(x0 * c - x1 * s);
      h[b] = __float2bfloat16_rn(x1 * c + x0 * s);
    }
  }
}

// One block per (token, head) over q heads then k heads.
template <typename T>
__global__ void rope_kernel(RopeParams p) {
  const int64_t t = blockIdx.x;
  const int head = blockIdx.y;
  const int32_t pos = p.positions[t];
  if (head < p.q_heads) {
    rope_head(static_cast<T*>(p.q) + t * p.q_token_stride + static_cast<int64_t>(head) * p.head_dim,
              pos, p.inv_freq, p.head_dim, p.style);
  } else if (p.k != nullptr) {
    rope_head(static_cast<T*>(p.k) + t * p.k_token_stride +
                  static_cast<int64_t>(head - p.q_heads) * p.head_dim,
              pos, p.inv_freq, p.head_dim, p.style);
  }
}

template <typename T>
__global__ void swiglu_kernel(SwiGluParams p) {
  const int64_t row = blockIdx.y;
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= p.dim / 8) return;
  const Vec8<T> g = load8<T>(p.gate, row * p.gate_stride + c * 8);
  const Vec8<T> u = load8<T>(p.up, row * p.up_stride + c * 8);
  Vec8<T> o;
  for (int i = 0; i < 8; ++i) {
    const float x = g.get(i);
    o.set(i, x / (1.f + __expf(-x)) * u.get(i));
  }
  store8<T>(p.out, row * p.out_stride + c * 8, o);
}

template <typename T>
__global__ void embedding_kernel(EmbeddingParams p) {
  const int64_t t = blockIdx.x;
  const int32_t id = p.ids[t];
  const bool ok = id >= 0 && id < p.vocab;
  for (int c = threadIdx.x; c < p.dim / 8; c += blockDim.x) {
    uint4 v = make_uint4(0, 0, 0, 0);
    if (ok)
      v = *reinterpret_cast<const uint4*>(static_cast<const T*>(p.table) + id * p.table_stride +
                                          c * 8);
    *reinterpret_cast<uint4*>(static_cast<T*>(p.out) + t * p.out_stride + c * 8) = v;
  }
}

bool aligned8(int64_t a) {
  return a % 8 == 0;
}

}  // namespace

cudaError_t launch_rms_norm(const RmsNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  if (p.dim <= 0 || !aligned8(p.dim) || !aligned8(p.x_stride) || !aligned8(p.out_stride) ||
      (p.residual != nullptr && !aligned8(p.residual_stride))) {
    return cudaErrorInvalidValue;
  }
  const int threads = p.dim / 8 >= 256 ? 256 : 64;
  if (p.dtype == DType::kF16) {
    rms_norm_kernel<__half><<<p.rows, threads, 0, stream>>>(p);
  } else {
    rms_norm_kernel<__nv_bfloat16><<<p.rows, threads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

cudaError_t launch_rope(const RopeParams& p, cudaStream_t stream) {
  if (p.tokens == 0) return cudaSuccess;
  if (p.head_dim <= 0 || p.head_dim % 2 != 0) return cudaErrorInvalidValue;
  dim3 grid(static_cast<unsigned>(p.tokens), static_cast<unsigned>(p.q_heads + p.kv_heads));
  const int threads = std::min(128, p.head_dim / 2);
  if (p.dtype == DType::kF16) {
    rope_kernel<__half><<<grid, threads, 0, stream>>>(p);
  } else {
    rope_kernel<__nv_bfloat16><<<grid, threads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

cudaError_t launch_swiglu(const SwiGluParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  if (p.dim <= 0 || !aligned8(p.dim) || !aligned8(p.out_stride) || !aligned8(p.gate_stride) ||
      !aligned8(p.up_stride)) {
    return cudaErrorInvalidValue;
  }
  dim3 grid(static_cast<unsigned>((p.dim / 8 + 127) / 128), static_cast<unsigned>(p.rows));
  if (p.dtype == DType::kF16) {
    swiglu_kernel<__half><<<grid, 128, 0, stream>>>(p);
  } else {
    swiglu_kernel<__nv_bfloat16><<<grid, 128, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

cudaError_t launch_embedding(const EmbeddingParams& p, cudaStream_t stream) {
  if (p.tokens == 0) return cudaSuccess;
  if (p.dim <= 0 || !aligned8(p.dim) || !aligned8(p.table_stride) || !aligned8(p.out_stride)) {
    return cudaErrorInvalidValue;
  }
  if (p.dtype == DType::kF16) {
    embedding_kernel<__half><<<p.tokens, 128, 0, stream>>>(p);
  } else {
    embedding_kernel<__nv_bfloat16><<<p.tokens, 128, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace stemma::kernels
