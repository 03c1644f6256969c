// Dispatch by DType over the per-family row functions.
#include <cstring>
#include <string>

#include "engine/model/quant/quant.h"

namespace stemma::quant {
namespace {
Status check_len(DType t, int64_t n) {
  int64_t be = dtype_block_elems(t);
  if (be <= 0 || n < 0 || n % be != 0) {
    return InvalidArgument(std::string("row of ") + std::to_string(n) +
                           " elements is not a whole " + "number of " + dtype_name(t) +
                           " blocks of " + std::to_string(be));
  }
  return OkStatus();
}
}  // namespace

Status quantize_row(DType t, const float* src, void* dst, int64_t n) {
  STEMMA_RETURN_IF_ERROR(check_len(t, n));
  switch (t) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return OkStatus();
    case DType::kF16:
      quantize_row_f16(src, static_cast<uint16_t*>(dst), n);
      return OkStatus();
    case DType::kBF16:
      quantize_row_bf16(src, static_cast<uint16_t*>(dst), n);
      return OkStatus();
    case DType::kQ8_0:
      quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return OkStatus();
    case DType::kQ4_0:
      quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n);
      return OkStatus();
    case DType::kQ4_K:
      quantize_row_q4_K(src, static_cast<BlockQ4_K*>(dst), n);
      return OkStatus();
    case DType::kQ6_K:
      quantize_row_q6_K(src, static_cast<BlockQ6_K*>(dst), n);
      return OkStatus();
  }
  return InvalidArgument("quantize_row: unknown dtype");
}

Status dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  STEMMA_RETURN_IF_ERROR(check_len(t, n));
  switch (t) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return OkStatus();
    case DType::kF16:
      dequantize_row_f16(static_cast<const uint16_t*>(src), dst, n);
      return OkStatus();
    case DType::kBF16:
      dequantize_row_bf16(static_cast<const uint16_t*>(src), dst, n);
      return OkStatus();
    case DType::kQ8_0:
      dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), dst, n);
      return OkStatus();
    case DType::kQ4_0:
      dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), dst, n);
      return OkStatus();
    case DType::kQ4_K:
      dequantize_row_q4_K(static_cast<const BlockQ4_K*>(src), dst, n);
      return OkStatus();
    case DType::kQ6_K:
      dequantize_row_q6_K(static_cast<const BlockQ6_K*>(src), dst, n);
      return OkStatus();
  }
  return InvalidArgument("dequantize_row: unknown dtype");
}

}  // namespace stemma::quant
