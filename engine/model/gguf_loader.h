// A GGUF file as a LoadedModel: config and tokenizer from metadata, tensors in place.
#pragma once

#include <optional>
#include <string>

#include "engine/model/gguf_reader.h"
#include "engine/model/model_loader.h"

namespace stemma {

// ModelConfig from `<arch>.*` metadata and the tensor list (tied output, biases, rope_freqs).
Result<ModelConfig> gguf_model_config(const GgufFile& g);
// TokenizerSpec from tokenizer.ggml.* and tokenizer.chat_template; nullopt when the file has no
// tokenizer.ggml.model.
Result<std::optional<TokenizerSpec>> gguf_tokenizer_spec(const GgufFile& g);

Result<LoadedModel> load_gguf_model(const std::string& path);

}  // namespace stemma
