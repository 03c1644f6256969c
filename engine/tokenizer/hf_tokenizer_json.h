// Reads an HF tokenizer (tokenizer.json, plus tokenizer_config.json beside it for the chat
// template, BOS/EOS and add_bos) into a TokenizerSpec, without touching any model weights.
#pragma once

#include <string>

#include "engine/api/status.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace stemma {

// `path`: a tokenizer.json file or a folder holding one. Parts of tokenizer.json we do not
// implement (another model type, an unknown normalizer or pre-tokenizer) are refused by name.
Result<TokenizerSpec> load_hf_tokenizer(const std::string& path);

// The same from the two files' contents (`config_json` may be empty).
Result<TokenizerSpec> parse_hf_tokenizer(const std::string& tokenizer_json,
                                         const std::string& config_json);

}  // namespace stemma
