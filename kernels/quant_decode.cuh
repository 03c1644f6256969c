// Device functions that decode weights in their GPU formats (weight_formats.h) to fp32: a whole
// unit at a time (32 values of Q8_0, 64 of a Q4_K chunk, 32 of a Q6_K group), so the GEMV and
// the dequantize kernels share one decoder per format.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/weight_formats.h"

namespace stemma::kernels::quant_decode {

__device__ __forceinline__ float half_bits(uint16_t h) {
  return __half2float(__ushort_as_half(h));
}

__device__ __forceinline__ float bf16_bits(uint16_t h) {
  return __uint_as_float(static_cast<uint32_t>(h) << 16);
}

// Elements per decode unit, and units per row.
__host__ __device__ inline int unit_elems(WeightFormat f) {
  switch (f) {
    case WeightFormat::kQ4_K:
      return 64;
    default:
      return 32;
  }
}

// GGML's 6-bit scale and min of sub-block j of a Q4_K block.
__device__ __forceinline__ void q4k_scale_min(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Decodes unit `u` of row `r` into out[0 .. unit_elems). Element e of the unit is column
// u * unit_elems + e, except for Q6_K (see unit_column).
__device__ __forceinline__ void decode_unit(const WeightMatrix& w, int64_t r, int64_t u,
                                            float* out) {
  switch (w.format) {
    case WeightFormat::kF32: {
      const float* p = static_cast<const float*>(w.data) + r * w.cols + u * 32;
      for (int i = 0; i < 32; i += 4) {
        const float4 v = *reinterpret_cast<const float4*>(p + i);
        out[i] = v.x;
        out[i + 1] = v.y;
        out[i + 2] = v.z;
        out[i + 3] = v.w;
      }
      break;
    }
    case WeightFormat::kF16:
    case WeightFormat::kBF16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + r * w.cols + u * 32;
      for (int i = 0; i < 32; i += 8) {
        const uint4 v = *reinterpret_cast<const uint4*>(p + i);
        const uint16_t* e = reinterpret_cast<const uint16_t*>(&v);
        for (int j = 0; j < 8; ++j)
          out[i + j] = w.format == WeightFormat::kF16 ? half_bits(e[j]) : bf16_bits(e[j]);
      }
      break;
    }
    case WeightFormat::kQ8_0: {
      const int8_t* q = static_cast<const int8_t*>(w.data) + r * w.cols + u * 32;
      const float d = half_bits(static_cast<const uint16_t*>(w.scales)[r * (w.cols / 32) + u]);
      for (int i = 0; i < 32; i += 16) {
        const int4 v = *reinterpret_cast<const int4*>(q + i);
        const int8_t* e = reinterpret_cast<const int8_t*>(&v);
        for (int j = 0; j < 16; ++j) out[i + j] = d * static_cast<float>(e[j]);
      }
      break;
    }
    case WeightFormat::kQ4_K: {
      // Unit = chunk c of block b: 32 bytes of nibbles, low = sub-block 2c, high = 2c + 1.
      const int64_t b = u / 4;
      const int c = static_cast<int>(u % 4);
      const uint8_t* blk =
          static_cast<const uint8_t*>(w.data) + (r * (w.cols / 256) + b) * kQ4KBlockBytes;
      const uint32_t dd = *reinterpret_cast<const uint32_t*>(blk);
      const float d = half_bits(static_cast<uint16_t>(dd & 0xffff));
      const float dmin = half_bits(static_cast<uint16_t>(dd >> 16));
      int sc0, m0, sc1, m1;
      q4k_scale_min(2 * c, blk + 4, &sc0, &m0);
      q4k_scale_min(2 * c + 1, blk + 4, &sc1, &m1);
      const float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
      const uint8_t* qs = blk + 16 + 32 * c;
      for (int i = 0; i < 32; i += 16) {
        const uint4 v = *reinterpret_cast<const uint4*>(qs + i);
        const uint8_t* e = reinterpret_cast<const uint8_t*>(&v);
        for (int j = 0; j < 16; ++j) {
          out[i + j] = d0 * static_cast<float>(e[j] & 0xF) - mm0;
          out[32 + i + j] = d1 * static_cast<float>(e[j] >> 4) - mm1;
        }
      }
      break;
    }
    case WeightFormat::kQ6_K: {
      // Unit = (half h, l group g of 8): columns h*128 + q*32 + 8g + i for q in 0..3, i < 8;
      // out[8q + i].
      const int64_t b = u / 8;
      const int h = static_cast<int>((u % 8) / 4), g = static_cast<int>(u % 4);
      const uint8_t* blk =
          static_cast<const uint8_t*>(w.data) + (r * (w.cols / 256) + b) * kQ6KBlockBytes;
      const uint8_t* ql = blk + 64 * h + 8 * g;
      const uint8_t* qh = blk + 128 + 32 * h + 8 * g;
      const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192) + 8 * h + g / 2;
      const float d = half_bits(*reinterpret_cast<const uint16_t*>(blk + 208));
      const uint2 lo = *reinterpret_cast<const uint2*>(ql);
      const uint2 hi = *reinterpret_cast<const uint2*>(ql + 32);
      const uint2 hb = *reinterpret_cast<const uint2*>(qh);
      const uint8_t* l0 = reinterpret_cast<const uint8_t*>(&lo);
      const uint8_t* l1 = reinterpret_cast<const uint8_t*>(&hi);
      const uint8_t* hh = reinterpret_cast<const uint8_t*>(&hb);
      const float s0 = d * sc[0], s1 = d * sc[2], s2 = d * sc[4], s3 = d * sc[6];
      for (int i = 0; i < 8; ++i) {
        out[i] = s0 * static_cast<float>(((l0[i] & 0xF) | (((hh[i] >> 0) & 3) << 4)) - 32);
        out[8 + i] = s1 * static_cast<float>(((l1[i] & 0xF) | (((hh[i] >> 2) & 3) << 4)) - 32);
        out[16 + i] = s2 * static_cast<float>(((l0[i] >> 4) | (((hh[i] >> 4) & 3) << 4)) - 32);
        out[24 + i] = s3 * static_cast<float>(((l1[i] >> 4) | (((hh[i] >> 6) & 3) << 4)) - 32);
      }
      break;
    }
  }
}

// Column of element e of unit u (see decode_unit).
__device__ __forceinline__ int64_t unit_column(WeightFormat f, int64_t u, int e) {
  if (f == WeightFormat::kQ6_K) {
    const int64_t b = u / 8;
    const int h = static_cast<int>((u % 8) / 4), g = static_cast<int>(u % 4);
    return b * 256 + h * 128 + (e / 8) * 32 + 8 * g + (e % 8);
  }
  return u * unit_elems(f) + e;
}

}  // namespace stemma::kernels::quant_decode
