// Scalar reference quantizers and dequantizers with GGML's exact bit layouts. They are the
// reference the SIMD / CUDA kernels are tested against, and what the dummy-model generator and
// the GGUF converter use. Row lengths must be whole numbers of blocks.
#pragma once

#include <cstdint>

#include "engine/api/status.h"
#include "engine/model/dtype.h"
#include "engine/model/quant/blocks.h"

namespace stemma::quant {

// IEEE half and bfloat16, round-to-nearest-even (NaN stays NaN, overflow becomes inf).
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t b);

void quantize_row_f16(const float* x, uint16_t* y, int64_t n);
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n);
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n);
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n);

// n % 32 == 0
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);

// Q5_0 is read from GGUF downloads and repacked to Q8_0 without loss; n % 32 == 0.
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void repack_q5_0_to_q8_0(const BlockQ5_0* x, BlockQ8_0* y, int64_t n);

// n % 256 == 0
void quantize_row_q4_K(const float* x, BlockQ4_K* y, int64_t n);
void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void quantize_row_q6_K(const float* x, BlockQ6_K* y, int64_t n);
void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t n);

// Any DType: `dst` holds dtype_row_bytes(t, n) bytes. Fails (InvalidArgument) when n is not a
// whole number of blocks.
Status quantize_row(DType t, const float* src, void* dst, int64_t n);
Status dequantize_row(DType t, const void* src, float* dst, int64_t n);

}  // namespace stemma::quant
