// Tokenizer: text <-> token ids for byte-level BPE (GPT-2, Llama 3, Qwen2/3) and
// SentencePiece-style BPE (Llama 2, Mistral, TinyLlama), built from a TokenizerSpec (filled from
// GGUF metadata, or from HF tokenizer.json by load_hf_tokenizer()).
//
// Encoding matches HF tokenizers (checked against transformers.js on real vocabularies):
// invalid UTF-8 in the input is first replaced by U+FFFD (as a JS/Python string would have it),
// added tokens are split out (special ones only when parse_special), each remaining section is
// normalized and pre-tokenized, and each piece runs through BPE.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/common/status.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace stemma {

class AddedTokenMatcher;
class BpeModel;
class RegexSplitter;

struct EncodeOptions {
  bool add_special = true;    // BOS/EOS as the spec says (add_bos/add_eos)
  bool parse_special = true;  // "<|im_start|>" in text is the special token (HF's default);
                              // false: it is plain text (llama.cpp's parse_special=false)
};

struct DecodeOptions {
  bool skip_special = false;     // leave out control tokens (BOS, EOS, <|im_end|>, ...)
  bool clean_up_spaces = false;  // HF's clean_up_tokenization_spaces (" ." -> ".", ...)
};

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> create(TokenizerSpec spec);
  ~Tokenizer();

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Ids out of range are an error that names them. Bytes that do not form UTF-8 become U+FFFD.
  Result<std::string> decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

  // The raw bytes token `id` stands for (byte tokens give their byte, "▁" gives a space); empty
  // for an id out of range.
  std::string token_bytes(int32_t id) const;

  int32_t vocab_size() const { return static_cast<int32_t>(spec_.tokens.size()); }
  int32_t bos_id() const { return spec_.bos_id; }
  int32_t eos_id() const { return spec_.eos_id; }
  bool is_control(int32_t id) const;  // special (control) token
  // The id of a token given its stored text, or -1.
  int32_t token_to_id(std::string_view token) const;
  const std::string& id_to_token(int32_t id) const { return spec_.tokens.at(id); }
  const TokenizerSpec& spec() const { return spec_; }
  bool byte_level() const { return byte_level_; }

 private:
  Tokenizer() = default;
  void encode_section(std::string_view text, std::vector<int32_t>* out) const;
  // Bytes of one token for decoding; `first` says whether it starts the output.
  void append_token_bytes(int32_t id, std::string* out) const;

  TokenizerSpec spec_;
  bool byte_level_ = false;
  bool nfc_ = false;
  std::unordered_map<std::string_view, int32_t> token_ids_;
  std::unique_ptr<BpeModel> bpe_;
  std::unique_ptr<RegexSplitter> splitter_;
  std::unique_ptr<AddedTokenMatcher> added_all_;    // special + user-defined
  std::unique_ptr<AddedTokenMatcher> added_plain_;  // user-defined only
  std::vector<uint8_t> byte_token_value_;           // SentencePiece <0xXX> tokens: 0x100 | byte
  friend class StreamDecoder;
};

// Streaming decode: feed ids as they are sampled, get text that never ends inside a UTF-8
// character (an incomplete tail is held until its bytes arrive or flush() is called).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {})
      : tokenizer_(tokenizer), options_(options) {}
  // Text that became complete with this id (may be empty). Out-of-range ids are an error.
  Result<std::string> push(int32_t id);
  // Whatever is held back, with incomplete bytes as U+FFFD.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  DecodeOptions options_;
  std::string pending_;
  bool at_start_ = true;
};

// HF's clean_up_tokenization: removes the space before punctuation and contractions.
std::string clean_up_tokenization_spaces(std::string_view text);

}  // namespace stemma
