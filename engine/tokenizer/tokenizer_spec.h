// Everything needed to build a tokenizer, in the shape of GGUF's tokenizer.ggml.* metadata,
// plus (when filled from an HF tokenizer.json) the file's whole pipeline.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/tokenizer/pipeline_spec.h"

namespace stemma {

struct TokenizerSpec {
  // "gpt2" (byte-level BPE), "llama" (BPE over text: SentencePiece style), "wordpiece",
  // "unigram" or "wordlevel".
  std::string model;
  std::string pre;  // pre-tokenizer name: "llama-bpe", "qwen2", "gpt2", "default", ...
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

  // The HF pipeline (hf_pipeline = true: these replace pre, pre_regex and normalizer).
  bool hf_pipeline = false;
  std::vector<NormalizerSpec> normalizers;
  std::vector<PreTokenizerSpec> pre_tokenizers;
  std::vector<DecoderSpec> decoders;
  bool has_decoder = true;                   // false: tokens are joined with " "
  std::vector<AddedTokenSpec> added_tokens;  // with their flags, in file order
  std::vector<uint8_t> in_model_vocab;       // per id: 1 = a token of the model's vocabulary
  std::vector<std::pair<std::string, std::string>> merge_pairs;  // when the file lists pairs
  bool byte_fallback = false;
  bool fuse_unk = false;
  std::string unk_token;                         // WordPiece / WordLevel
  std::string continuing_subword_prefix = "##";  // WordPiece
  int max_input_chars_per_word = 100;            // WordPiece
  std::vector<double> unigram_scores;            // Unigram, by id
  // The post-processor's template for one sequence: ids before and after the text
  // (add_bos/add_eos with bos_id/eos_id say the same for GGUF specs).
  bool post_template = false;
  std::vector<int32_t> post_prefix, post_suffix;
  // What transformers passes a chat template as its special tokens (special_tokens_map):
  // "bos_token", "eos_token", "unk_token", "pad_token", ... -> text, only those the
  // tokenizer_config sets; additional_special_tokens beside.
  std::vector<std::pair<std::string, std::string>> special_token_texts;
  std::vector<std::string> additional_special_tokens;
};

}  // namespace stemma
