// Tokenizer: text <-> token ids, built from a TokenizerSpec (filled from GGUF metadata, or from
// an HF tokenizer.json by load_hf_tokenizer()). Models: byte-level BPE (GPT-2, Llama 3, Qwen,
// DeepSeek, GPT-4o...), BPE over text (SentencePiece style: Llama 2, Gemma, Mistral...),
// WordPiece, Unigram and WordLevel.
//
// It runs HF tokenizers' pipeline (checked against HF's Rust tokenizers on real vocabularies):
// invalid UTF-8 in the input is first replaced by U+FFFD (as a JS/Python string would have it);
// added tokens are split out (special ones only when parse_special); each remaining section is
// normalized, split again on normalized added tokens, pre-tokenized, and each piece runs
// through the model; the post-processor's tokens go around. Decoding maps ids to token strings
// and runs them through the decoder chain.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/api/status.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace stemma {

class AddedTokenMatcher;
class Decoder;
class Normalizer;
class PreTokenizer;
class TokenModel;

struct EncodeOptions {
  bool add_special = true;    // the post-processor's tokens (BOS/EOS, [CLS]/[SEP], ...)
  bool parse_special = true;  // "<|im_start|>" in text is the special token (HF's default);
                              // false: it is plain text (llama.cpp's parse_special=false)
};

struct DecodeOptions {
  bool skip_special = false;     // leave out control tokens (BOS, EOS, <|im_end|>, ...)
  bool clean_up_spaces = false;  // HF's clean_up_tokenization_spaces (" ." -> ".", ...)
};

class Tokenizer {
 public:
  // Parts of the spec this tokenizer cannot run are refused with an error naming them.
  static Result<std::unique_ptr<Tokenizer>> create(TokenizerSpec spec);
  ~Tokenizer();

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Ids out of range are an error that names them. Bytes that do not form UTF-8 become U+FFFD.
  Result<std::string> decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

  // The raw bytes token `id` stands for (byte tokens give their byte, "▁" gives a space, a
  // WordPiece continuation loses its "##"); empty for an id out of range.
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
  Status build(TokenizerSpec spec);
  // Normalizes, splits on normalized added tokens, pre-tokenizes and encodes one section of
  // text between raw added tokens. `at_input_start`: the section begins the input.
  void encode_section(std::string_view text, bool at_input_start, bool parse_special,
                      std::vector<int32_t>* out) const;

  TokenizerSpec spec_;
  bool byte_level_ = false;
  std::unordered_map<std::string_view, int32_t> token_ids_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<TokenModel> model_;
  std::unique_ptr<Decoder> decoder_;
  // Added tokens matched on the raw text (normalized = false) and on normalized text; each
  // with and without the special ones.
  std::unique_ptr<AddedTokenMatcher> added_all_, added_plain_;
  std::unique_ptr<AddedTokenMatcher> normalized_all_, normalized_plain_;
  std::vector<uint8_t> byte_token_value_;         // <0xXX> tokens: their byte (token_bytes)
  std::vector<int32_t> prefix_ids_, suffix_ids_;  // the post-processor's
};

// Streaming decode: feed ids as they are sampled, get text that never ends inside a UTF-8
// character (an incomplete tail is held until its bytes arrive or flush() is called), and
// whose pieces add up to decode() of all the ids.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {})
      : tokenizer_(tokenizer), options_(options) {}
  // Text that became complete with this id (may be empty). Out-of-range ids are an error.
  Result<std::string> push(int32_t id);
  // Whatever is held back, with incomplete bytes as U+FFFD.
  std::string flush();

 private:
  // HF's DecodeStream: the ids from the last emitted token on are decoded together (so
  // decoders that look at neighbours, or strip the first token, see the same context as a
  // full decode); new text is what the window decodes to beyond what it decoded to at the last
  // emission, held back while it ends in an incomplete character.
  const Tokenizer& tokenizer_;
  DecodeOptions options_;
  std::vector<int32_t> window_;
  std::string prefix_;  // what window_ decoded to after the last emission
  size_t prefix_index_ = 0;
};

// HF's clean_up_tokenization: removes the space before punctuation and contractions.
std::string clean_up_tokenization_spaces(std::string_view text);

}  // namespace stemma
