// A bitset over the vocabulary: bit i set = token i may be sampled. The sampler applies it to
// the logits (disallowed -> -inf); constraint objects fill it per automaton state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stemma::constrain {

class TokenMask {
 public:
  TokenMask() = default;
  explicit TokenMask(int32_t vocab_size) { resize(vocab_size); }

  void resize(int32_t vocab_size) {
    size_ = vocab_size;
    words_.assign((static_cast<size_t>(vocab_size) + 63) / 64, 0);
  }
  int32_t size() const { return size_; }
  void clear() { std::fill(words_.begin(), words_.end(), 0); }
  void set(int32_t id) { words_[id >> 6] |= uint64_t{1} << (id & 63); }
  void reset(int32_t id) { words_[id >> 6] &= ~(uint64_t{1} << (id & 63)); }
  bool test(int32_t id) const {
    return id >= 0 && id < size_ && ((words_[id >> 6] >> (id & 63)) & 1) != 0;
  }
  int32_t count() const;
  const uint64_t* words() const { return words_.data(); }
  uint64_t* words() { return words_.data(); }
  size_t num_words() const { return words_.size(); }
  // logits[i] = -inf for every token not in the mask (i < min(n, size())); tokens at or past
  // size() (padding rows some models carry) are masked too.
  void apply_to_logits(float* logits, int32_t n) const;

 private:
  int32_t size_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace stemma::constrain
