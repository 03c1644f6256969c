// A stand-in tokenizer for tests and benchmarks while the real BPE tokenizer is elsewhere:
// greedy longest match over the vocabulary's byte strings. It is lossless (every byte string
// round-trips when all 256 single bytes are tokens) but it is NOT the model's BPE; the
// jump-forward logic only needs *a* lossless encode function and works with either.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/constrain/vocabulary.h"

namespace stemma::constrain {

class LongestMatchEncoder {
 public:
  explicit LongestMatchEncoder(std::shared_ptr<const TokenIndex> index);
  // Empty result if some byte has no single-byte token.
  std::vector<int32_t> encode(std::string_view text) const;

 private:
  struct Child {
    uint8_t byte;
    int32_t node;
  };
  std::shared_ptr<const TokenIndex> index_;
  // Trie with child lists, node 0 = root.
  std::vector<std::vector<Child>> children_;
  std::vector<int32_t> token_;
};

}  // namespace stemma::constrain
