#include "kernels/gemm.h"

namespace stemma::kernels {

cublasStatus_t gemm_xwt(cublasHandle_t handle, DType dtype, int32_t rows, int32_t out, int32_t in,
                        const void* x, int64_t ldx, const void* w, int64_t ldw, void* y,
                        int64_t ldy, float alpha, float beta) {
  // Row-major Y [rows][out] is column-major Y^T (out x rows) = W (out x in) * X^T (in x rows);
  // row-major W is column-major W^T, hence op T on it.
  const cudaDataType_t t = dtype == DType::kF16 ? CUDA_R_16F : CUDA_R_16BF;
  return cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, &alpha, w, t,
                      static_cast<int>(ldw), x, t, static_cast<int>(ldx), &beta, y, t,
                      static_cast<int>(ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

}  // namespace stemma::kernels
