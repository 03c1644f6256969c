// Token sampling on the GPU: temperature, top-k, top-p, then inverse-CDF sampling with a given
// uniform number per row (the host's seeded RNG draws it, so runs are reproducible).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace stemma::kernels {

// Per row: temperature <= 0 picks the argmax (lowest index among equal maxima; -1 when no logit
// is finite, as the host's sampling::argmax). Otherwise
// x = logit / temperature; top_k > 0 keeps the tokens whose x is >= the k-th largest (ties at
// the k-th value are all kept); top_p < 1 then keeps the most probable tokens whose mass reaches
// top_p of the kept mass (ties at the threshold kept); the token is the first index, in vocab
// order, whose cumulative kept probability exceeds uniform[row].
struct SampleParams {
  const float* logits = nullptr;  // [rows][vocab]
  int64_t logits_stride = 0;
  const float* temperature = nullptr;  // [rows]
  const int32_t* top_k = nullptr;      // [rows]
  const float* top_p = nullptr;        // [rows]
  const float* uniform = nullptr;      // [rows], in [0, 1)
  int32_t* out_tokens = nullptr;       // [rows]
  int32_t rows = 0;
  int32_t vocab = 0;
};
cudaError_t launch_sample(const SampleParams& p, cudaStream_t stream);

}  // namespace stemma::kernels
