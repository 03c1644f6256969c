// The weights of a Llama-family model (Llama 2/3, Mistral, Qwen2, Qwen3) bound from a
// LoadedModel for the CPU forward pass: matrices stay in their stored format (usually inside the
// file's mmap); small vectors (norms, biases) are converted to float32 once.
#pragma once

#include <vector>

#include "engine/api/status.h"
#include "engine/backend/cpu/matmul.h"
#include "engine/model/model_loader.h"

namespace stemma::cpu {

struct LlamaLayerWeights {
  Matrix q, k, v, o, gate, up, down;
  std::vector<float> attn_norm, ffn_norm;
  std::vector<float> q_bias, k_bias, v_bias;         // empty unless config.attn_qkv_bias
  std::vector<float> o_bias;                         // empty unless config.attn_output_bias
  std::vector<float> q_norm, k_norm;                 // empty unless config.qk_norm
  std::vector<float> gate_bias, up_bias, down_bias;  // empty unless config.mlp_bias
};

struct LlamaWeights {
  Matrix token_embd;  // rows dequantized on lookup
  Matrix output;      // token_embd itself when embeddings are tied
  std::vector<float> output_norm;
  std::vector<float> rope_inv_freq;    // head_dim / 2, scaling applied
  float rope_attention_factor = 1.0f;  // cos/sin multiplier (yarn)
  std::vector<LlamaLayerWeights> layers;
};

// Binds and checks every tensor the config implies; errors name the tensor and what is wrong.
Result<LlamaWeights> bind_llama_weights(const LoadedModel& model, const KernelTable& kernels);

}  // namespace stemma::cpu
