// One description of a model's architecture, filled from GGUF metadata or HF config.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stemma {

enum class Architecture {
  kLlama,  // Llama 2/3, Mistral, SmolLM, TinyLlama (GGUF "llama")
  kQwen2,  // Qwen2 / Qwen2.5: q/k/v bias
  kQwen3,  // Qwen3: q/k RMSNorm, no bias
};

// How rope frequencies are rescaled for long contexts (HF config.json `rope_scaling` /
// `rope_parameters`, GGUF `<arch>.rope.scaling.*`). Types whose frequencies depend on the length
// of each forward call (HF "dynamic", "longrope") are refused at load: a prefix cache reuses keys
// across calls of different lengths, so no cached engine can reproduce them.
struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3, kYarn };
  Type type = Type::kNone;
  float factor = 1.0f;
  float low_freq_factor = 1.0f;   // llama3
  float high_freq_factor = 4.0f;  // llama3
  int64_t original_max_position = 8192;
  // yarn (HF _compute_yarn_parameters): the band between the beta_fast and beta_slow correction
  // dims blends interpolated and extrapolated frequencies; cos/sin are multiplied by
  // attention_factor (0: derived from factor, mscale, mscale_all_dim).
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  float mscale = 0.0f;
  float mscale_all_dim = 0.0f;
  float attention_factor = 0.0f;
  bool truncate = true;  // round the correction dims to integers (HF's default)
};

struct ModelConfig {
  Architecture arch = Architecture::kLlama;
  std::string arch_name;  // as the file names it ("llama", "qwen2", "mistral", ...)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position = 0;
  float rms_norm_eps = 1e-6f;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;
  bool tie_embeddings = false;    // output projection reuses token_embd
  bool attn_qkv_bias = false;     // qwen2 (and llama/qwen3 with attention_bias)
  bool attn_output_bias = false;  // llama/qwen3 with attention_bias: o_proj has a bias too
  bool qk_norm = false;           // qwen3
  bool mlp_bias = false;          // llama with mlp_bias: gate/up/down projections have biases
  // GGUF files of arch "llama" store Q/K rows permuted for rope on adjacent pairs (x0,x1),
  // (x2,x3)...; HF checkpoints (and GGUF qwen2/qwen3) rotate halves (x_i, x_{i+d/2}).
  bool rope_interleaved = false;
  // GGUF llama3 files carry `rope_freqs.weight` [head_dim/2]: per-pair divisors of the rope
  // frequencies (llama3 scaling precomputed). rope_inv_freq() in rope.h applies either form.
  bool rope_freq_factors = false;
  int32_t bos_token_id = -1;
  std::vector<int32_t> eos_token_ids;
};

}  // namespace stemma
