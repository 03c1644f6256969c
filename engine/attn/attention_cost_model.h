// Cost model of the paged attention kernel (kernels/paged_attention.cu), used to split long
// segments and balance work items over the SMs.
//
// A work item runs as one thread block per KV head. Its time is a fixed part (launch of the
// block, Q load, state write) plus, per 64-token tile, the larger of the time to stream the tile
// from memory at the block's share of the bandwidth and the time of its tensor-core work, which
// grows with the 16-row tiles of queries it serves.
#pragma once

#include <algorithm>
#include <cstdint>

namespace stemma::attn {

struct CostModel {
  // Fitted on an H200 (132 SMs, 2026-12-02, the kernel with wgmma for items of more than 32
  // rows and the merge launched as a programmatic dependent) by
  //   bench/kernels/stemma_bench_kernels --calibrate
  // (it also runs first in the matrix; bench/kernels/results/run8_full_h200.csv, first lines;
  // docs/kernels.md). The defaults below are that fit.
  int32_t num_sms = 132;
  int32_t blocks_per_sm = 2;                // occupancy of the kernel (112 KB smem, 128 threads)
  double hbm_bytes_per_ns = 4202.0;         // copy-kernel roofline (read + write bytes / time)
  double launch_fixed_ns = 7392.0;          // attention + merge launches, first wave's start
  double block_fixed_ns = 6293.0;           // per block: start, Q load, pipeline fill, epilogue
  double tile_mma_ns_per_row_tile = 590.0;  // per 64-token tile and 16-row query tile (D=128)
  int32_t min_split_tokens = 64;            // one tile: below it a split only adds fixed cost

  // Time of one block working on `tokens` KV positions for `rows` query rows while the whole GPU
  // is busy (each block gets 1/(num_sms*blocks_per_sm) of the bandwidth).
  double block_ns(int64_t tokens, int32_t rows, int32_t head_dim, int32_t dtype_bytes) const {
    const int64_t tiles = (tokens + 63) / 64;
    const double tile_bytes = 2.0 * 64 * head_dim * dtype_bytes;
    const double load_ns = tile_bytes * num_sms * blocks_per_sm / hbm_bytes_per_ns;
    const int32_t row_tiles = rows <= 16 ? 1 : (rows <= 32 ? 2 : 4);
    const double mma_ns = tile_mma_ns_per_row_tile * row_tiles * head_dim / 128.0;
    return block_fixed_ns + static_cast<double>(tiles) * std::max(load_ns, mma_ns);
  }
};

}  // namespace stemma::attn
