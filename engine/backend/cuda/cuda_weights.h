// A Llama-family model's weights in GPU memory, in their file's formats (kernels/
// weight_formats.h): 16/32-bit matrices as stored, Q8_0 / Q4_K / Q6_K blocks repacked only for
// alignment. Q/K/V and gate/up are fused into one matmul each where their formats agree;
// norms, biases and rope tables are fp32.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backend/cuda/device_buffer.h"
#include "engine/model/model_loader.h"
#include "kernels/weight_formats.h"

namespace stemma::cuda {

struct DeviceMatrix {
  kernels::WeightMatrix view;  // points into data / scales
  DeviceBuffer data, scales;
};

// One matmul output of `width` columns made of parts (rows of the output) stacked in order:
// one part when the fused matrices share a format, else one per matrix.
struct MatmulGroup {
  std::vector<DeviceMatrix> parts;
  std::vector<int64_t> column;  // first output column of each part
  int64_t width = 0;
  int64_t cols = 0;  // input width
};

struct DeviceLayer {
  MatmulGroup qkv, o, gate_up, down;
  DeviceBuffer attn_norm, ffn_norm;  // fp32 [hidden]
  DeviceBuffer qkv_bias;             // fp32 [q + k + v], or empty
  DeviceBuffer o_bias, down_bias;    // fp32 [hidden], or empty
  DeviceBuffer gate_up_bias;         // fp32 [2 * ff], or empty
  DeviceBuffer q_norm, k_norm;       // fp32 [head_dim], or empty
};

struct DeviceWeights {
  kernels::ElemType compute = kernels::ElemType::kBF16;  // activations and KV pages
  DeviceMatrix token_embd;
  MatmulGroup output;
  DeviceBuffer output_norm;  // fp32 [hidden]
  DeviceBuffer inv_freq;     // fp32 [head_dim / 2]
  float rope_attention_factor = 1.f;
  std::vector<DeviceLayer> layers;
  int64_t max_dequant_elems = 0;  // largest part that a prefill matmul may expand to 16 bits
  size_t bytes = 0;               // device memory held
};

// Uploads every tensor (on the current device). Unsupported weight types are refused by name.
Result<DeviceWeights> upload_weights(const LoadedModel& model);

}  // namespace stemma::cuda
