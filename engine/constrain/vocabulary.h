// The vocabulary as constraints see it: each token's bytes, which tokens are special (never
// produced by a grammar), and which are end-of-sequence (allowed exactly where the grammar may
// stop). TokenIndex adds a byte trie laid out in depth-first order for fast mask walks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/api/status.h"

namespace stemma::constrain {

struct Vocabulary {
  std::vector<std::string> tokens;  // raw bytes of each token (decoded from the tokenizer)
  std::vector<uint8_t> special;     // 1 = control/special token: never allowed by a grammar
  std::vector<int32_t> eos_ids;     // allowed exactly in accepting states

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
};

// A trie over token bytes in depth-first preorder: node i's subtree is [i, subtree_end[i]).
// Walking it against a DFA visits a node only if its parent's prefix is still alive, and skips
// whole subtrees on a dead byte.
class TokenIndex {
 public:
  static Result<std::shared_ptr<const TokenIndex>> build(Vocabulary vocab);

  const Vocabulary& vocab() const { return vocab_; }
  int32_t size() const { return vocab_.size(); }
  bool is_eos(int32_t id) const;

  struct Node {
    int32_t subtree_end;
    int32_t token;   // token ending here, or -1; more in `extra_tokens` (duplicate byte strings)
    uint16_t depth;  // 1 for a first byte
    uint8_t byte;
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  // Tokens whose bytes duplicate another token's: (node, token) pairs sorted by node.
  const std::vector<std::pair<int32_t, int32_t>>& extra_tokens() const { return extra_; }
  int32_t max_token_bytes() const { return max_len_; }

 private:
  Vocabulary vocab_;
  std::vector<Node> nodes_;
  std::vector<std::pair<int32_t, int32_t>> extra_;
  std::vector<uint8_t> eos_;
  int32_t max_len_ = 0;
};

}  // namespace stemma::constrain
