// Writing GGUF v3: metadata of every type, tensor infos, tensor data at the alignment.
// Tensor bytes are produced one tensor at a time while writing, so converting a model needs
// memory for its largest tensor only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/model/dtype.h"
#include "engine/model/gguf_value.h"

namespace stemma {

class GgufWriter {
 public:
  // Fills `dst` with exactly the tensor's byte size.
  using Fill = std::function<Status(uint8_t* dst, size_t nbytes)>;

  explicit GgufWriter(uint64_t alignment = 32);

  // Sets a metadata key (a later set of the same key replaces the value, keeping its place).
  void set(const std::string& key, GgufValue value);
  void set_u32(const std::string& key, uint32_t v) { set(key, GgufValue(v)); }
  void set_f32(const std::string& key, float v) { set(key, GgufValue(v)); }
  void set_bool(const std::string& key, bool v) { set(key, GgufValue(v)); }
  void set_string(const std::string& key, std::string v) { set(key, GgufValue(std::move(v))); }

  // `shape` is row-major (outermost first). Checks that the shape fits `dtype`'s blocks.
  Status add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape, Fill fill);
  // Copies from `data` (nbytes must match the shape) at write time.
  Status add_tensor_bytes(const std::string& name, DType dtype, std::vector<int64_t> shape,
                          const uint8_t* data, size_t nbytes);

  // Any GGML type id (also ones DType does not name), with its row size in bytes given by the
  // caller: for passing through tensors and for tests.
  Status add_tensor_raw(const std::string& name, uint32_t ggml_type, size_t row_bytes,
                        std::vector<int64_t> shape, const uint8_t* data, size_t nbytes);

  Status write_file(const std::string& path) const;
  Result<std::vector<uint8_t>> write_bytes() const;

  size_t tensor_count() const { return tensors_.size(); }

 private:
  struct Tensor {
    std::string name;
    uint32_t ggml_type;
    std::vector<int64_t> shape;
    size_t nbytes;
    uint64_t offset;
    Fill fill;
  };
  Status add(const std::string& name, uint32_t ggml_type, size_t row_bytes,
             std::vector<int64_t> shape, Fill fill);
  std::vector<uint8_t> header() const;
  template <typename Sink>
  Status write_to(Sink& sink) const;

  uint64_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace stemma
