// Everything needed to build a tokenizer, in the shape of GGUF's tokenizer.ggml.* metadata.
// Filled from GGUF metadata or from HF tokenizer.json (+ tokenizer_config.json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stemma {

struct TokenizerSpec {
  std::string model;  // "gpt2" (byte-level BPE) or "llama" (SentencePiece BPE)
  std::string pre;    // pre-tokenizer name: "llama-bpe", "qwen2", "gpt2", "default", ...
  std::vector<std::string> tokens;   // token text as stored (byte-level BPE: GPT-2 byte chars)
  std::vector<float> scores;         // SentencePiece scores (may be empty for BPE)
  std::vector<int32_t> token_types;  // GGUF token types: 1 normal, 2 unknown, 3 control,
                                     // 4 user-defined, 5 unused, 6 byte
  std::vector<std::string> merges;   // "a b" pairs, rank = index (byte-level BPE)
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SentencePiece: prepend "▁" to the text
  std::string chat_template;      // Jinja source, empty when the model ships none

  // Extensions (HF tokenizer.json carries these; GGUF loaders may leave the defaults, which
  // then follow `pre` the way llama.cpp does):
  std::string pre_regex;   // an HF "Split" regex; when set it overrides the one `pre` names
  std::string normalizer;  // "nfc", "none", or "" = decided by `pre` ("qwen2": nfc)
  int ignore_merges = -1;  // 1/0, or -1 = decided by `pre` (llama-bpe: 1)
};

}  // namespace stemma
