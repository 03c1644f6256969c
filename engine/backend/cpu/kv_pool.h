// The CPU KV cache: a pool of fixed-size pages per layer, float32, HND layout inside a page
// ([kv_head][slot][head_dim], see engine/backend/model_executor.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/backend/model_executor.h"

namespace stemma::cpu {

class KvPool {
 public:
  KvPool() = default;
  explicit KvPool(const KvCacheShape& shape)
      : shape_(shape),
        k_(static_cast<size_t>(shape.num_layers * shape.num_pages * page_floats())),
        v_(k_.size()) {}

  const KvCacheShape& shape() const { return shape_; }
  // The head_dim floats of (layer, page, kv_head, slot).
  float* k(int64_t layer, int64_t page, int64_t head, int64_t slot) {
    return &k_[index(layer, page, head, slot)];
  }
  float* v(int64_t layer, int64_t page, int64_t head, int64_t slot) {
    return &v_[index(layer, page, head, slot)];
  }
  int64_t page_floats() const { return shape_.num_kv_heads * shape_.page_size * shape_.head_dim; }

 private:
  size_t index(int64_t layer, int64_t page, int64_t head, int64_t slot) const {
    return static_cast<size_t>(((layer * shape_.num_pages + page) * shape_.num_kv_heads + head) *
                                   shape_.page_size +
                               slot) *
           static_cast<size_t>(shape_.head_dim);
  }
  KvCacheShape shape_;
  std::vector<float> k_, v_;
};

}  // namespace stemma::cpu
