// Quantized weight matrices repacked for the blocked matmul (gemm_impl.inc): rows are grouped
// in panels of 16, and within a panel the weights of the 16 rows are interleaved four k values at
// a time, so that one 64-byte vector holds 4 consecutive weights of each of 16 rows. The kernels
// multiply such a vector with 4 bytes of one activation row broadcast to all lanes (VNNI's
// vpdpbusd), accumulating 16 outputs per instruction: no horizontal sums, and a panel read once
// serves a whole tile of tokens. Scales are unpacked to one byte or one f16 per row and block, so
// the kernels load them as vectors instead of decoding 6-bit fields in scalar code.
//
// Packing is exact: the kernels compute the same products as the GGML blocks hold. Layouts, per
// panel (rows r = 0..15 of the panel; rows past the matrix are zero):
//
//   Q8_0, per pair of 32-weight blocks (1088 bytes): qs of block 0 (8 k-groups x 16 rows x 4
//   bytes, each w + 128 as uint8), qs of block 1, d of block 0 (16 f16), d of block 1. An odd
//   block count ends with a zero block.
//   Q4_K, per 256-weight super-block (2368 bytes): for each of the 8 sub-blocks of 32, four
//   vectors whose low nibbles hold k-group 2j and high nibbles k-group 2j+1 (uint 0..15); then
//   the 8 x 16 six-bit scales as bytes, the 8 x 16 mins as bytes, d (16 f16), dmin (16 f16).
//   Q6_K, per 256-weight super-block (3392 bytes): for each of the 16 sub-blocks of 16, vector A
//   (k-groups 0 and 1 as nibbles), vector B (k-groups 2 and 3), vector H (the two high bits of
//   k-groups 0..3 at bits 0-1, 2-3, 4-5, 6-7), q in 0..63; then the scales as 8 vectors of pairs
//   (sc[2p][r], sc[2p+1][r]) as int8, d (16 f16), and 32 bytes of padding (64-byte units).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/model/dtype.h"

namespace stemma::cpu {

enum class PackedFormat { kNone, kQ8_0, kQ4_K, kQ6_K };

constexpr int64_t kPanelRows = 16;
constexpr size_t kQ8_0PairBytes = 1088;
constexpr size_t kQ4_KBlockBytes = 2368;
constexpr size_t kQ6_KBlockBytes = 3392;

// The packed format a weight type has (kNone: the matmul reads its rows as stored).
PackedFormat packed_format(DType dtype);

// Bytes of one panel of `cols` columns.
size_t packed_panel_bytes(PackedFormat format, int64_t cols);

struct PackedMatrix {
  PackedFormat format = PackedFormat::kNone;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t panels = 0;
  size_t panel_bytes = 0;
  const uint8_t* data = nullptr;  // 64-byte aligned, panels * panel_bytes

  const uint8_t* panel(int64_t p) const { return data + static_cast<size_t>(p) * panel_bytes; }
  ~PackedMatrix();
  PackedMatrix() = default;
  PackedMatrix(const PackedMatrix&) = delete;
  PackedMatrix& operator=(const PackedMatrix&) = delete;
};

// Repacks `rows` rows of `cols` weights of `dtype` (GGML blocks, rows `row_stride` bytes apart,
// any alignment). Returns nullptr when the type has no packed format; throws std::bad_alloc when
// memory runs out (callers turn it into ResourceExhausted).
std::shared_ptr<const PackedMatrix> pack_matrix(DType dtype, const uint8_t* data, size_t row_stride,
                                                int64_t rows, int64_t cols);

}  // namespace stemma::cpu
