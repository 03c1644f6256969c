// Matrix-vector products over weights in their GPU formats (weight_formats.h), decoded inside
// the kernel: the decode step's matmuls for quantized models, where reading the weights once is
// the whole cost. Larger batches expand a weight's rows to 16 bits in a scratch buffer
// (launch_dequantize_rows) and use cuBLAS instead.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/weight_formats.h"

namespace stemma::kernels {

inline constexpr int kGemvMaxRows = 8;

// y[j][n] = sum_k x[j][k] * w[n][k] for j < m (1 <= m <= kGemvMaxRows), n < w.rows; x is
// [m][w.cols] in x_type, y is [m][w.rows] fp32 (row stride y_stride, >= w.rows).
cudaError_t launch_gemv(const WeightMatrix& w, const void* x, ElemType x_type, int32_t m, float* y,
                        int64_t y_stride, cudaStream_t stream);

}  // namespace stemma::kernels
