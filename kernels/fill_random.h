// Fills device memory with reproducible pseudo-random values (benchmarks and tests need real
// data at GPU speed: zeros run faster than real inputs and hide unwritten outputs).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/paged_attention.h"

namespace stemma::kernels {

// out[i] = uniform(-scale, scale) from a hash of (seed, i), rounded to dtype.
cudaError_t launch_fill_random(void* out, int64_t count, DType dtype, uint64_t seed, float scale,
                               cudaStream_t stream);

// Reads `bytes` of `buf` (a multiple of 16) and writes nothing but one word of `sink` that no
// real input reaches: benchmarks sweep a buffer larger than L2 with it so that the next kernel
// starts with a cold L2 and no dirty lines to write back (a memset would leave ~L2-size of them).
cudaError_t launch_read_sweep(const void* buf, int64_t bytes, uint32_t* sink, cudaStream_t stream);

}  // namespace stemma::kernels
