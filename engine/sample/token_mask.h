// A set of allowed token ids (a bitset over the vocabulary): what a grammar state permits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace stemma {

class TokenMask {
 public:
  TokenMask() = default;
  // All tokens disallowed (or all allowed when `allow_all`).
  explicit TokenMask(int64_t vocab_size, bool allow_all = false);

  int64_t vocab_size() const { return vocab_size_; }
  void allow(int32_t token);
  void disallow(int32_t token);
  bool allowed(int32_t token) const;
  int64_t count() const;

  // Sets the logits of disallowed tokens to -infinity. Tokens past the mask's vocab are
  // disallowed.
  void apply(std::span<float> logits) const;

  const std::vector<uint64_t>& words() const { return words_; }

 private:
  int64_t vocab_size_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace stemma
