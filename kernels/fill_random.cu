#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <type_traits>

#include "kernels/fill_random.h"

namespace stemma::kernels {
namespace {

__device__ uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

template <typename T>
__global__ void fill_random_kernel(T* out, int64_t n, uint64_t seed, float scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float u =
        static_cast<float>(mix64(seed * 0x632be59bd9b4e019ull + i) >> 40) * (1.0f / 16777216.0f);
    const float v = (2.f * u - 1.f) * scale;
    if constexpr (sizeof(T) == 4) {
      out[i] = v;
    } else if constexpr (std::is_same_v<T, __half>) {
      out[i] = __float2half_rn(v);
    } else {
      out[i] = __float2bfloat16_rn(v);
    }
  }
}

__global__ void read_sweep_kernel(const uint4* buf, int64_t n, uint32_t* sink) {
  uint32_t x = 0;
#pragma unroll 4
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint4 v = __ldcg(buf + i);
    x ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (x == 0x9e3779b9u) *sink = x;  // keeps the loads alive
}

}  // namespace

cudaError_t launch_read_sweep(const void* buf, int64_t bytes, uint32_t* sink, cudaStream_t stream) {
  if (bytes <= 0) return cudaSuccess;
  if (bytes % 16 != 0) return cudaErrorInvalidValue;
  const int64_t n = bytes / 16;
  const int blocks = static_cast<int>(std::min<int64_t>((n + 255) / 256, 132 * 16));
  read_sweep_kernel<<<blocks, 256, 0, stream>>>(static_cast<const uint4*>(buf), n, sink);
  return cudaGetLastError();
}

cudaError_t launch_fill_random(void* out, int64_t count, DType dtype, uint64_t seed, float scale,
                               cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  const int blocks = static_cast<int>(std::min<int64_t>((count + 255) / 256, 132 * 16));
  if (dtype == DType::kF16) {
    fill_random_kernel<<<blocks, 256, 0, stream>>>(static_cast<__half*>(out), count, seed, scale);
  } else {
    fill_random_kernel<<<blocks, 256, 0, stream>>>(static_cast<__nv_bfloat16*>(out), count, seed,
                                                   scale);
  }
  return cudaGetLastError();
}

}  // namespace stemma::kernels
