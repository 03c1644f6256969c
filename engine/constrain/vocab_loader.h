// Reads a Vocabulary (token bytes, special tokens, EOS ids) from a Hugging Face tokenizer.json.
// Only the vocabulary is read, not the merges: constraints need each token's bytes, nothing
// else. Byte-level BPE vocabularies (GPT-2 byte-to-char mapping: Llama 3, Qwen, GPT-2) and
// SentencePiece-style ones ("▁" for space, <0xNN> byte tokens: Llama 2, Mistral) are decoded.
#pragma once

#include <string>
#include <string_view>

#include "engine/api/status.h"
#include "engine/constrain/vocabulary.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace stemma::constrain {

Result<Vocabulary> load_vocabulary_from_tokenizer_json(const std::string& path);
Result<Vocabulary> parse_vocabulary_from_tokenizer_json(std::string_view json_text);

// From a TokenizerSpec (GGUF tokenizer.ggml.* metadata or tokenizer.json, as the model loader
// fills it): "gpt2" models are byte-level, "llama" ones SentencePiece; control tokens (type 3)
// are special; eos_id is the EOS.
Result<Vocabulary> vocabulary_from_tokenizer_spec(const TokenizerSpec& spec);

// Decodes one GPT-2 byte-level token string ("Ġhello" -> " hello"). Fails on characters
// outside the 256-character byte alphabet.
Result<std::string> decode_byte_level_token(std::string_view token);

}  // namespace stemma::constrain
