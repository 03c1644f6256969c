// How the CUDA kernels see a model's tensors: element types of activations and KV pages, and
// the storage formats of weight matrices in GPU memory. Weights keep their file's precision:
// 16- and 32-bit matrices as stored, GGML quantized blocks repacked only where their bytes are
// not 4-byte aligned (never expanded to 16 bits at load).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define STEMMA_HOST_DEVICE __host__ __device__
#else
#define STEMMA_HOST_DEVICE
#endif

namespace stemma::kernels {

// Activations, KV pages and 16/32-bit weights.
enum class ElemType : int32_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

STEMMA_HOST_DEVICE inline int elem_bytes(ElemType t) {
  return t == ElemType::kF32 ? 4 : 2;
}

enum class WeightFormat : int32_t {
  kF32 = 0,
  kF16 = 1,
  kBF16 = 2,
  // Repacked Q8_0: `data` int8 [rows][cols], `scales` fp16 [rows][cols / 32].
  kQ8_0 = 3,
  // GGML's BlockQ4_K as stored (144 bytes, 4-byte aligned): [rows][cols / 256] blocks.
  kQ4_K = 4,
  // GGML's BlockQ6_K padded to 216 bytes (ql[128] qh[64] scales[16] d[2] pad[6]).
  kQ6_K = 5,
};

inline constexpr int kQ4KBlockBytes = 144;
inline constexpr int kQ6KBlockBytes = 216;  // GGML's 210 + 6 bytes of padding (8-byte aligned)

// A weight matrix [rows][cols] in GPU memory (a linear layer's [out][in], or an embedding table).
struct WeightMatrix {
  WeightFormat format = WeightFormat::kBF16;
  const void* data = nullptr;
  const void* scales = nullptr;  // Q8_0 only
  int64_t rows = 0;
  int64_t cols = 0;
};

}  // namespace stemma::kernels
