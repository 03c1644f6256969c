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

}  // namespace stemma::kernels
