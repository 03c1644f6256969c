// Finds added tokens (special and user-defined) in text: at each position the longest token
// that starts there wins, scanning left to right (HF's leftmost-longest splitting), with HF's
// per-token flags: single_word (only between non-word characters), lstrip / rstrip (the match
// takes the white space on its left / right). A byte trie plus a first-byte filter keeps this
// linear in practice.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stemma {

struct AddedTokenFlags {
  bool lstrip = false, rstrip = false, single_word = false;
};

class AddedTokenMatcher {
 public:
  using Flags = AddedTokenFlags;
  void add(std::string_view content, int32_t id, Flags flags = Flags());
  bool empty() const { return nodes_.size() <= 1; }

  struct Section {
    std::string_view text;  // plain text when token < 0
    int32_t token = -1;
  };
  // Splits `text` into plain-text sections and added tokens, in order; no empty text sections.
  void split(std::string_view text, std::vector<Section>* out) const;

 private:
  struct Node {
    std::unordered_map<uint8_t, int32_t> children;
    int32_t token = -1;
    Flags flags;
  };
  std::vector<Node> nodes_{Node{}};
  bool first_byte_[256] = {};
};

}  // namespace stemma
