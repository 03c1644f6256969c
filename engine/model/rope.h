// Rotary embedding frequencies with the model's scaling applied, one per rotated pair.
#pragma once

#include <optional>
#include <vector>

#include "engine/api/status.h"
#include "engine/model/model_config.h"
#include "engine/model/tensor.h"

namespace stemma {

// inv_freq[i] for i in [0, head_dim/2): theta^(-2i/head_dim), then
//   linear scaling: / factor;  llama3 scaling: HF's wavelength-banded formula;  yarn: HF's
//   ramp between interpolated and extrapolated frequencies over the correction band;
//   `rope_freqs` (GGUF llama3 files, F32 [head_dim/2]): / rope_freqs[i] — when
//   config.rope_freq_factors is set, the tensor replaces the llama3 formula (the GGUF loader
//   also fills rope_scaling with llama3 parameters that reproduce it, for code that reads only
//   the config).
// The angle of pair i at position p is p * inv_freq[i]. Pass the model's "rope_freqs.weight"
// when config.rope_freq_factors is set (an error when it is missing or mis-sized).
Result<std::vector<float>> rope_inv_freq(const ModelConfig& config, const TensorView* rope_freqs);

// The factor cos and sin are multiplied by (HF's attention_scaling): 1 except for yarn, where
// it is the configured attention_factor or 0.1 * mscale * ln(factor) + 1 (HF's get_mscale,
// with mscale / mscale_all_dim when both are given).
float rope_attention_factor(const ModelConfig& config);

// The llama3 parameters whose frequencies divide the plain ones by `factors` (a GGUF
// rope_freqs.weight), given the original context (GGUF rope.scaling.original_context_length, or
// 8192 as in Llama 3.x). nullopt unless the parameters reproduce every factor within 1e-4.
std::optional<RopeScaling> llama3_scaling_from_factors(const ModelConfig& c,
                                                       const std::vector<float>& factors,
                                                       int64_t original_max_position);

}  // namespace stemma
