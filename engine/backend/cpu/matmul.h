// y = x W^T for a weight matrix in any supported storage type, spread over a thread pool.
// Q8_0, Q4_K and Q6_K matrices are repacked once (packed_weights.h) and multiplied in tiles of
// tokens x 16-row panels (gemm_impl.inc); the other types are read as stored, one weight row at
// a time against up to kMaxRowDotX activation rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/api/status.h"
#include "engine/backend/cpu/kernels.h"
#include "engine/backend/cpu/packed_weights.h"
#include "engine/backend/cpu/thread_pool.h"
#include "engine/model/tensor.h"

namespace stemma::cpu {

// A [rows, cols] weight matrix as stored (row-major, quantization blocks along cols).
struct Matrix {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  size_t row_stride = 0;  // bytes
  WeightKernel kernel;
  // The repacked copy the matmul reads (null for types read as stored); `data` stays the
  // original rows (embedding lookups).
  std::shared_ptr<const PackedMatrix> packed;
  PackedGemmFn gemm = nullptr;  // the packed kernel
  ActFormat packed_act = ActFormat::kF32;

  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
};

// Checks that `t` is a 2-D matrix the kernels support (dtype, cols a multiple of the block) and
// whose byte size matches; errors name the tensor. Quantized types with a packed format are
// repacked here (ResourceExhausted when memory runs out) unless `pack` is false: a matrix whose
// rows are only looked up (the token embedding) needs no packed copy.
Result<Matrix> make_matrix(const TensorView& t, const KernelTable& kernels, bool pack = true);

// y[i, n] = sum_k W[n, k] * x[i, k] for i < m. x is [m, w.cols] (row stride ldx floats), y is
// [m, w.rows] (row stride ldy floats). `scratch` holds the quantized copy of x between calls.
void matmul(ThreadPool& pool, const KernelTable& kernels, const Matrix& w, const float* x,
            int64_t m, int64_t ldx, float* y, int64_t ldy, std::vector<uint8_t>& scratch);

// Several matrices applied to the same x (q/k/v, gate/up): x is quantized once per activation
// format and all outputs are computed in one parallel loop (one wake-up of the workers).
struct MatmulOutput {
  const Matrix* w = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;
};
void matmul_multi(ThreadPool& pool, const KernelTable& kernels, std::span<const MatmulOutput> outs,
                  const float* x, int64_t m, int64_t ldx, std::vector<uint8_t>& scratch);

}  // namespace stemma::cpu
