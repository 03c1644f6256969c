// The non-BPE models of HF tokenizers, with HF's algorithms:
// - WordPiece (BERT-style embedders): greedy longest match from the left, continuation pieces
//   prefixed ("##"); a word with no full split, or longer than max_input_chars_per_word
//   characters, is the unknown token.
// - Unigram (SentencePiece unigram: T5, XLM-R, ...): the Viterbi path of highest total score;
//   characters with no piece score min_score - 10 as unknown, runs of unknowns fuse into one,
//   byte fallback to <0xXX> pieces where the model has it.
// - WordLevel: the whole word is a token or the unknown token.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/api/status.h"
#include "engine/tokenizer/token_model.h"

namespace stemma {

namespace detail {
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;
}  // namespace detail

class WordPieceModel : public TokenModel {
 public:
  // `vocab`: token text by id ("" where an id has no token).
  static Result<std::unique_ptr<WordPieceModel>> create(const std::vector<std::string>& vocab,
                                                        const std::string& unk_token,
                                                        std::string prefix, int max_chars);
  void encode_word(std::string_view word, std::vector<int32_t>* out) const override;

 private:
  detail::StringIdMap vocab_;
  int32_t unk_id_ = -1;
  std::string prefix_;
  int max_chars_ = 100;
};

class UnigramModel : public TokenModel {
 public:
  // `pieces`/`scores`: by id. A model without unk_id is refused (HF loads it but fails on the
  // first character it has no piece for).
  static Result<std::unique_ptr<UnigramModel>> create(const std::vector<std::string>& pieces,
                                                      const std::vector<double>& scores,
                                                      int32_t unk_id, bool byte_fallback);
  void encode_word(std::string_view word, std::vector<int32_t>* out) const override;

 private:
  // Every prefix of every piece -> the piece's id, or -1 when the prefix is not a piece.
  detail::StringIdMap prefixes_;
  std::vector<double> scores_;
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false;
  int32_t byte_ids_[256];
  double min_score_ = 0;
};

class WordLevelModel : public TokenModel {
 public:
  static Result<std::unique_ptr<WordLevelModel>> create(const std::vector<std::string>& vocab,
                                                        const std::string& unk_token);
  void encode_word(std::string_view word, std::vector<int32_t>* out) const override;

 private:
  detail::StringIdMap vocab_;
  int32_t unk_id_ = -1;
};

}  // namespace stemma
