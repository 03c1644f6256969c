// LoadedModel (HF safetensors, GGUF or dummy) -> GGUF, re-encoding matrices to a target type.
// Norms, biases and rope_freqs stay F32. For arch llama, Q/K rows are permuted the way
// llama.cpp's convert_hf_to_gguf does (rope on adjacent pairs), so our files match downloads.
#pragma once

#include <optional>
#include <string>

#include "engine/model/gguf_writer.h"
#include "engine/model/model_loader.h"

namespace stemma {

struct ConvertOptions {
  DType type = DType::kQ8_0;  // for matrices; falls back per tensor (see storable_type)
  // Written as tokenizer.ggml.*; when unset, the model's own tokenizer (if any) is written.
  std::optional<TokenizerSpec> tokenizer;
  std::string name;  // general.name
  // general.alignment of the tensor data (a power of two; 1 lets tensors start at any byte,
  // which readers must cope with: tests write such files).
  uint64_t alignment = 32;
};

// A writer holding the model's metadata and tensors; the tensor data is encoded when written
// (so `model` must outlive the writer's write_*()).
Result<GgufWriter> make_gguf_writer(const LoadedModel& model, const ConvertOptions& options);
Status convert_to_gguf(const LoadedModel& model, const std::string& out_path,
                       const ConvertOptions& options);

// Metadata helpers (also used by tests and the tokenizer's tools).
void write_config_metadata(const ModelConfig& c, GgufWriter* w);
void write_tokenizer_metadata(const TokenizerSpec& t, GgufWriter* w);

// A SentencePiece-style vocabulary of `vocab` entries with those llama.cpp requires (unk 0,
// bos 1, eos 2, the 256 byte tokens) and placeholder pieces for the rest: enough for other
// engines to load a model that has no tokenizer (generated weights), fed token ids.
TokenizerSpec placeholder_tokenizer(int64_t vocab);

// For the llama permutation: output row r of a Q (n_heads) or K (n_kv_heads) projection takes
// input row permuted_qk_row(r, ...) of the HF (rotate-halves) layout.
int64_t permuted_qk_row(int64_t r, int64_t head_dim);

}  // namespace stemma
