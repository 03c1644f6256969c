// The CPU compute kernels, one table per instruction set (see kernels_impl.inc). Weight rows are
// read in their stored format and dequantized inside the dot product; quantized weights meet an
// 8-bit copy of the activations (ActQ32 / ActQ256) in integer dot products.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/backend/cpu/cpu_features.h"
#include "engine/backend/cpu/quant_formats.h"
#include "engine/model/dtype.h"

namespace stemma::cpu {

// What x must be converted to before the dot products of a weight type (kQ32R: for packed
// Q8_0 matrices, packed_weights.h).
enum class ActFormat { kF32, kQ32, kQ256, kQ32R };
constexpr int kNumActFormats = 4;

// Dot products of one weight row (k values in its stored format) with `nx` activation rows
// (1 <= nx <= kMaxRowDotX) at x + j * x_stride bytes, in `act` format; out[j * out_stride] = dot j.
// Reading the weight row once for several x rows is what makes prefill cheaper than decode.
constexpr int kMaxRowDotX = 4;
using RowDotFn = void (*)(int64_t k, const uint8_t* w_row, const uint8_t* x, size_t x_stride,
                          int nx, float* out, size_t out_stride);

// Blocked matmul over packed panels (packed_weights.h, gemm_impl.inc): `num_panels` panels of
// 16 rows starting at w (panel_bytes apart), k columns, times m activation rows at x (x_stride
// bytes apart, in the format's activation layout); writes y[t * ldy + r] for r < valid_rows
// (the rows of these panels that exist). Each output is computed in the same order whatever m
// and the tile it falls in, so a token's row is bit-identical in decode and in prefill.
using PackedGemmFn = void (*)(const uint8_t* w, size_t panel_bytes, int64_t num_panels, int64_t k,
                              int64_t valid_rows, const uint8_t* x, size_t x_stride, int64_t m,
                              float* y, size_t ldy);

struct KernelTable {
  Isa isa = Isa::kScalar;
  RowDotFn dot_f32 = nullptr;
  RowDotFn dot_f16 = nullptr;
  RowDotFn dot_bf16 = nullptr;
  RowDotFn dot_q8_0 = nullptr;
  RowDotFn dot_q4_0 = nullptr;
  RowDotFn dot_q4_k = nullptr;
  RowDotFn dot_q6_k = nullptr;
  // x (k values, k a multiple of 32 / 256) -> k/32 ActQ32 or k/256 ActQ256 blocks.
  void (*quantize_q32)(int64_t k, const float* x, ActQ32* out) = nullptr;
  void (*quantize_q256)(int64_t k, const float* x, ActQ256* out) = nullptr;
  void (*quantize_q32r)(int64_t k, const float* x, ActQ32R* out) = nullptr;
  // Packed matmuls by format (packed_weights.h): Q8_0 meets ActQ32R, Q4_K and Q6_K ActQ256.
  PackedGemmFn gemm_q8_0 = nullptr;
  PackedGemmFn gemm_q4_k = nullptr;
  PackedGemmFn gemm_q6_k = nullptr;
  // Plain float helpers for attention.
  float (*dot)(int64_t n, const float* a, const float* b) = nullptr;
  void (*axpy)(int64_t n, float a, const float* x, float* y) = nullptr;  // y += a * x
};

// The table of `isa`, or of the widest instruction set below it that this CPU supports: a table
// is built on first use and only for an ISA the CPU reports, so no wider code ever runs.
const KernelTable& kernels_for(Isa isa);
const KernelTable& kernels();  // kernels_for(best_isa())

// Per-dtype facts for the matmul: the kernel, the activation format, the block size along k.
struct WeightKernel {
  RowDotFn dot = nullptr;
  ActFormat act = ActFormat::kF32;
  int64_t block = 1;  // k must be a multiple of this
};
// Returns a kernel with dot == nullptr for dtypes the CPU backend does not support.
WeightKernel weight_kernel(const KernelTable& table, DType dtype);

// Bytes of one row of k values of `dtype` (k a multiple of the block size).
size_t row_bytes(DType dtype, int64_t k);
// Bytes of one activation row of k values in `act` format.
size_t act_row_bytes(ActFormat act, int64_t k);

// Scalar dequantization of one row (embedding lookups, norm vectors, test references).
void dequantize_row(DType dtype, const uint8_t* row, int64_t k, float* out);

}  // namespace stemma::cpu
