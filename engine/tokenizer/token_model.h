// The model step of a tokenizer: one pre-tokenized piece in, token ids out. BPE (bpe_model.h),
// WordPiece, Unigram and WordLevel (word_models.h) implement it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace stemma {

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  // Appends the ids of `word` (a piece of normalized, pre-tokenized text).
  virtual void encode_word(std::string_view word, std::vector<int32_t>* out) const = 0;
};

}  // namespace stemma
