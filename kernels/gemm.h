// GEMMs through cuBLAS: the one shape a forward pass needs, Y = X W^T with row-major
// activations X [rows][in] and weights W [out][in] (how checkpoints store linear layers).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/paged_attention.h"  // DType

namespace stemma::kernels {

// y[r][o] = alpha * sum_i x[r][i] * w[o][i] + beta * y[r][o]; fp32 accumulation. Leading
// dimensions are row strides in elements.
cublasStatus_t gemm_xwt(cublasHandle_t handle, DType dtype, int32_t rows, int32_t out, int32_t in,
                        const void* x, int64_t ldx, const void* w, int64_t ldw, void* y,
                        int64_t ldy, float alpha = 1.f, float beta = 0.f);

}  // namespace stemma::kernels
