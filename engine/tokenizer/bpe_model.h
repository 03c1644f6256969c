// The BPE merge loop shared by byte-level BPE (GPT-2, Llama 3, Qwen2) and SentencePiece-style
// BPE (Llama 2, Mistral, TinyLlama).
//
// A word is split into initial symbols (one per byte for byte-level vocabularies, one per
// character otherwise, with byte fallback or <unk> for characters not in the vocabulary), then
// the adjacent pair of lowest rank is merged until none is left. Pairs live in a min-heap over a
// linked list of symbols, so a word of n symbols costs O(n log n), never quadratic. Results for
// short words are cached (text repeats a lot).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/tokenizer/token_model.h"

namespace stemma {

class BpeModel : public TokenModel {
 public:
  struct Options {
    bool byte_level = false;     // symbols are bytes mapped through GPT-2's byte map
    bool byte_fallback = false;  // unknown characters become <0xXX> tokens
    bool ignore_merges = false;  // a word that is itself a token is emitted whole (Llama 3)
    bool fuse_unk = false;       // consecutive <unk> symbols become one
    int32_t unk_id = -1;         // -1: characters with no token are dropped (as HF does)
  };

  BpeModel(Options options, std::unordered_map<std::string_view, int32_t> vocab,
           std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges,
           const int32_t (&byte_ids)[256]);

  // Appends the ids of `word`. Byte-level: `word` is raw bytes. Otherwise `word` is text (the
  // SentencePiece "▁" already in place).
  void encode_word(std::string_view word, std::vector<int32_t>* out) const override;

  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

 private:
  void initial_symbols(std::string_view word, std::vector<int32_t>* symbols) const;
  void merge(std::vector<int32_t>* symbols) const;

  Options options_;
  std::unordered_map<std::string_view, int32_t> vocab_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // pair -> (rank, merged)
  int32_t byte_ids_[256];  // byte-level: the id of each byte's char; else of <0xXX> (or -1)

  static constexpr size_t kMaxCachedWord = 64;
  static constexpr size_t kMaxCacheEntries = 1 << 17;
  mutable std::mutex cache_mutex_;
  // Transparent hashing: lookups by string_view allocate nothing.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace stemma
