// Opening a model: a GGUF file, or a folder with config.json + *.safetensors (HF layout).
// Both give the same ModelConfig and the same GGUF-named tensors, so one architecture code path
// serves both.
//
// Tensor names (GGUF convention; HF names are mapped onto these):
//   token_embd.weight                         [vocab, hidden]
//   blk.{i}.attn_norm.weight                  [hidden]
//   blk.{i}.attn_q.weight / attn_k / attn_v   [heads*head_dim | kv_heads*head_dim, hidden]
//   blk.{i}.attn_q.bias / attn_k.bias / attn_v.bias            (qwen2)
//   blk.{i}.attn_q_norm.weight / attn_k_norm.weight [head_dim] (qwen3)
//   blk.{i}.attn_output.weight                [hidden, heads*head_dim]
//   blk.{i}.ffn_norm.weight                   [hidden]
//   blk.{i}.ffn_gate.weight / ffn_up.weight   [intermediate, hidden]
//   blk.{i}.ffn_down.weight                   [hidden, intermediate]
//   output_norm.weight                        [hidden]
//   output.weight                             [vocab, hidden]  (absent when tie_embeddings)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/common/mapped_file.h"
#include "engine/model/model_config.h"
#include "engine/model/tensor.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace stemma {

struct LoadedModel {
  ModelConfig config;
  std::map<std::string, TensorView> tensors;  // by GGUF name; data points into files/owned
  std::optional<TokenizerSpec> tokenizer;     // when the file carries one
  std::string source_path;
  std::string source_format;  // "gguf", "safetensors" or "dummy"
  // Storage the views point into: mmaps of model files, buffers of generated weights.
  std::vector<std::shared_ptr<MappedFile>> files;
  std::vector<std::shared_ptr<std::vector<uint8_t>>> owned;

  const TensorView* find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
};

// Opens a .gguf file or an HF folder. Unknown architectures are refused by name; missing or
// mis-shaped tensors are named in the error.
Result<LoadedModel> load_model(const std::string& path);

// How make_dummy_model draws weights.
enum class DummyInit {
  // Normal(0, 1/fan_in) matrices, norms near 1, small biases: the activations of a trained model
  // in scale, for benchmarks.
  kBenchmark,
  // Uniform draws with the spread the HF reference suite needs (tools/fixtures): norms in
  // [0.5, 1.5], biases of std 0.5, q/k gain 1.5 (attention that is not flat over thousands of
  // positions), o/down gain 2 (blocks that outweigh the embedding, so greedy decoding moves).
  // Integer arithmetic and IEEE products only: the same bytes on every machine and compiler.
  kReference,
};

// Seeded random weights at the shapes `config` implies (for benchmarks and reference tests at
// real sizes without downloads). Matrices are stored as `weight_type`; norms and biases stay F32.
Result<LoadedModel> make_dummy_model(const ModelConfig& config, DType weight_type, uint64_t seed,
                                     DummyInit init = DummyInit::kBenchmark);

}  // namespace stemma
