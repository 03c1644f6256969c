#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "kernels/quant_decode.cuh"
#include "kernels/quant_matmul.h"

namespace stemma::kernels {
namespace {

using quant_decode::decode_unit;
using quant_decode::unit_column;
using quant_decode::unit_elems;

constexpr int kWarps = 8;

template <typename X>
__device__ __forceinline__ float x_at(const X* x, int64_t i) {
  if constexpr (sizeof(X) == 4) {
    return x[i];
  } else if constexpr (std::is_same_v<X, __half>) {
    return __half2float(x[i]);
  } else {
    return __bfloat162float(x[i]);
  }
}

// One warp per output row; the lanes walk the row's decode units.
template <typename X, int M>
__global__ void gemv_kernel(WeightMatrix w, const X* x, float* y, int64_t y_stride) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarps + warp;
  if (n >= w.rows) return;
  const int per = unit_elems(w.format);
  const int64_t units = w.cols / per;
  float acc[M];
  for (int j = 0; j < M; ++j) acc[j] = 0.f;
  float buf[64];
  for (int64_t u = lane; u < units; u += 32) {
    decode_unit(w, n, u, buf);
    if (w.format == WeightFormat::kQ6_K) {
      for (int e = 0; e < 32; ++e) {
        const int64_t col = unit_column(w.format, u, e);
        for (int j = 0; j < M; ++j) acc[j] += buf[e] * x_at(x, j * w.cols + col);
      }
    } else {
      const int64_t col0 = u * per;
      for (int e = 0; e < per; ++e) {
        for (int j = 0; j < M; ++j) acc[j] += buf[e] * x_at(x, j * w.cols + col0 + e);
      }
    }
  }
  for (int j = 0; j < M; ++j) {
    float v = acc[j];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) y[j * y_stride + n] = v;
  }
}

template <typename X>
cudaError_t launch_typed(const WeightMatrix& w, const X* x, int32_t m, float* y, int64_t ys,
                         cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((w.rows + kWarps - 1) / kWarps);
  switch (m) {
#define STEMMA_GEMV_CASE(M)                                             \
  case M:                                                               \
    gemv_kernel<X, M><<<blocks, kWarps * 32, 0, stream>>>(w, x, y, ys); \
    break;
    STEMMA_GEMV_CASE(1)
    STEMMA_GEMV_CASE(2)
    STEMMA_GEMV_CASE(3)
    STEMMA_GEMV_CASE(4)
    STEMMA_GEMV_CASE(5)
    STEMMA_GEMV_CASE(6)
    STEMMA_GEMV_CASE(7)
    STEMMA_GEMV_CASE(8)
#undef STEMMA_GEMV_CASE
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_gemv(const WeightMatrix& w, const void* x, ElemType x_type, int32_t m, float* y,
                        int64_t y_stride, cudaStream_t stream) {
  if (m < 1 || m > kGemvMaxRows || w.data == nullptr || w.rows <= 0 || y_stride < w.rows ||
      w.rows > (int64_t{1} << 31)) {
    return cudaErrorInvalidValue;
  }
  const bool blocks_ok = (w.format == WeightFormat::kQ4_K || w.format == WeightFormat::kQ6_K)
                             ? w.cols % 256 == 0
                             : w.cols % 32 == 0;
  if (!blocks_ok || (w.format == WeightFormat::kQ8_0 && w.scales == nullptr))
    return cudaErrorInvalidValue;
  switch (x_type) {
    case ElemType::kF32:
      return launch_typed(w, static_cast<const float*>(x), m, y, y_stride, stream);
    case ElemType::kF16:
      return launch_typed(w, static_cast<const __half*>(x), m, y, y_stride, stream);
    case ElemType::kBF16:
      return launch_typed(w, static_cast<const __nv_bfloat16*>(x), m, y, y_stride, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace stemma::kernels
