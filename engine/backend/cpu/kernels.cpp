#include "engine/backend/cpu/kernels.h"

#include <cstring>

namespace stemma::cpu {
namespace scalar {
void fill_table(Isa isa, KernelTable* t);
}
namespace avx2 {
void fill_table(Isa isa, KernelTable* t);
}
namespace avx512 {
void fill_table(Isa isa, KernelTable* t);
}

namespace {

// Each table is built on first use, and only when the CPU reports its instruction set:
// fill_table of kernels_avx512.cpp is itself compiled for AVX-512 (it may store the pointers
// with zmm registers), so merely building that table on an AVX2-only CPU is SIGILL.
template <void (*Fill)(Isa, KernelTable*), Isa kIsa>
const KernelTable& table() {
  static const KernelTable t = [] {
    KernelTable k;
    Fill(kIsa, &k);
    return k;
  }();
  return t;
}

}  // namespace

const KernelTable& kernels_for(Isa isa) {
  // Never wider than what the CPU reports: an unsupported request gets the widest supported
  // table below it (scalar at worst).
  if (isa == Isa::kAvx512 && isa_supported(Isa::kAvx512)) {
    return table<&avx512::fill_table, Isa::kAvx512>();
  }
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) {
    return table<&avx2::fill_table, Isa::kAvx2>();
  }
  return table<&scalar::fill_table, Isa::kScalar>();
}

const KernelTable& kernels() {
  return kernels_for(best_isa());
}

WeightKernel weight_kernel(const KernelTable& t, DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return {t.dot_f32, ActFormat::kF32, 1};
    case DType::kF16:
      return {t.dot_f16, ActFormat::kF32, 1};
    case DType::kBF16:
      return {t.dot_bf16, ActFormat::kF32, 1};
    case DType::kQ8_0:
      return {t.dot_q8_0, ActFormat::kQ32, 32};
    case DType::kQ4_0:
      return {t.dot_q4_0, ActFormat::kQ32, 32};
    case DType::kQ4_K:
      return {t.dot_q4_k, ActFormat::kQ256, 256};
    case DType::kQ6_K:
      return {t.dot_q6_k, ActFormat::kQ256, 256};
  }
  return {};
}

size_t row_bytes(DType dtype, int64_t k) {
  switch (dtype) {
    case DType::kF32:
      return static_cast<size_t>(k) * 4;
    case DType::kF16:
    case DType::kBF16:
      return static_cast<size_t>(k) * 2;
    case DType::kQ8_0:
      return static_cast<size_t>(k / 32) * sizeof(BlockQ8_0);
    case DType::kQ4_0:
      return static_cast<size_t>(k / 32) * sizeof(BlockQ4_0);
    case DType::kQ4_K:
      return static_cast<size_t>(k / 256) * sizeof(BlockQ4_K);
    case DType::kQ6_K:
      return static_cast<size_t>(k / 256) * sizeof(BlockQ6_K);
  }
  return 0;
}

size_t act_row_bytes(ActFormat act, int64_t k) {
  switch (act) {
    case ActFormat::kF32:
      return static_cast<size_t>(k) * 4;
    case ActFormat::kQ32:
      return static_cast<size_t>(k / 32) * sizeof(ActQ32);
    case ActFormat::kQ256:
      return static_cast<size_t>(k / 256) * sizeof(ActQ256);
    case ActFormat::kQ32R:
      return static_cast<size_t>(k / 32) * sizeof(ActQ32R);
  }
  return 0;
}

void dequantize_row(DType dtype, const uint8_t* row, int64_t k, float* out) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(out, row, static_cast<size_t>(k) * 4);
      return;
    case DType::kF16:
    case DType::kBF16: {
      for (int64_t i = 0; i < k; ++i) {
        uint16_t h;
        std::memcpy(&h, row + 2 * i, 2);
        out[i] = dtype == DType::kF16 ? fp16_to_f32(h) : bf16_to_f32(h);
      }
      return;
    }
    case DType::kQ8_0: {
      const auto* b = reinterpret_cast<const BlockQ8_0*>(row);
      for (int64_t i = 0; i < k / 32; ++i)
        for (int l = 0; l < 32; ++l) out[32 * i + l] = fp16_to_f32(b[i].d) * b[i].qs[l];
      return;
    }
    case DType::kQ4_0: {
      const auto* b = reinterpret_cast<const BlockQ4_0*>(row);
      for (int64_t i = 0; i < k / 32; ++i) {
        const float d = fp16_to_f32(b[i].d);
        for (int l = 0; l < 16; ++l) {
          out[32 * i + l] = d * ((b[i].qs[l] & 15) - 8);
          out[32 * i + l + 16] = d * ((b[i].qs[l] >> 4) - 8);
        }
      }
      return;
    }
    case DType::kQ4_K: {
      const auto* b = reinterpret_cast<const BlockQ4_K*>(row);
      for (int64_t i = 0; i < k / 256; ++i) {
        const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
        float* o = out + 256 * i;
        for (int c = 0; c < 4; ++c) {
          uint8_t sc0, m0, sc1, m1;
          q4k_scale_min(2 * c, b[i].scales, &sc0, &m0);
          q4k_scale_min(2 * c + 1, b[i].scales, &sc1, &m1);
          for (int l = 0; l < 32; ++l) {
            o[64 * c + l] = d * sc0 * (b[i].qs[32 * c + l] & 15) - dmin * m0;
            o[64 * c + 32 + l] = d * sc1 * (b[i].qs[32 * c + l] >> 4) - dmin * m1;
          }
        }
      }
      return;
    }
    case DType::kQ6_K: {
      const auto* b = reinterpret_cast<const BlockQ6_K*>(row);
      for (int64_t i = 0; i < k / 256; ++i) {
        const float d = fp16_to_f32(b[i].d);
        for (int h = 0; h < 2; ++h) {
          const uint8_t* ql = b[i].ql + 64 * h;
          const uint8_t* qh = b[i].qh + 32 * h;
          const int8_t* sc = b[i].scales + 8 * h;
          float* o = out + 256 * i + 128 * h;
          for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            o[l] = d * sc[is] * (((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32);
            o[l + 32] = d * sc[is + 2] * (((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
            o[l + 64] = d * sc[is + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            o[l + 96] = d * sc[is + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
          }
        }
      }
      return;
    }
  }
}

}  // namespace stemma::cpu
