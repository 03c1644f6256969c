// A view of one named weight tensor as stored in a model file (usually inside an mmap).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/dtype.h"

namespace stemma {

struct TensorView {
  std::string name;  // GGUF naming ("blk.0.attn_q.weight"), also for safetensors
  DType dtype = DType::kF32;
  // Row-major, outermost first (numpy / safetensors order): a Linear weight is [out, in] and
  // `in` is contiguous; quantization blocks run along the last dimension. GGUF's ne[] is the
  // reverse of this.
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t num_elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t rows() const { return shape.empty() ? 1 : num_elements() / shape.back(); }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

}  // namespace stemma
