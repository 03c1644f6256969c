// Reading GGUF (versions 2 and 3, little-endian): header, metadata, tensor infos, data offsets.
// Everything is checked against the file before use, with 64-bit overflow-safe arithmetic; a bad
// file gives an error naming the problem and its byte offset, never a crash.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/status.h"
#include "engine/common/mapped_file.h"
#include "engine/model/gguf_value.h"
#include "engine/model/tensor.h"

namespace stemma {

class GgufFile {
 public:
  // Maps and parses `path`.
  static Result<GgufFile> open(const std::string& path);
  // Parses an image in memory; tensor views point into `data`, which must outlive the result.
  // `what` names the source in errors.
  static Result<GgufFile> parse(const uint8_t* data, size_t size, const std::string& what);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  const std::string& path() const { return what_; }
  std::shared_ptr<MappedFile> file() const { return file_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }

  // Typed getters: NotFound when the key is absent, InvalidArgument naming the key and the
  // stored type when it does not convert.
  Result<std::string> get_string(const std::string& key) const;
  Result<uint64_t> get_uint(const std::string& key) const;  // any integer type, >= 0
  Result<int64_t> get_int(const std::string& key) const;    // any integer type that fits
  Result<double> get_float(const std::string& key) const;   // float32/64 or any integer
  Result<bool> get_bool(const std::string& key) const;
  Result<std::vector<std::string>> get_string_array(const std::string& key) const;
  Result<std::vector<float>> get_float_array(const std::string& key) const;  // numeric arrays
  Result<std::vector<int64_t>> get_int_array(const std::string& key) const;  // integer arrays

  // Tensors in file order; shapes row-major (GGUF's ne[] reversed). Besides the DTypes, GGML
  // type 6 (Q5_0, llama.cpp's fallback in Q4_K_M files) is accepted and shows as
  // static_cast<DType>(6); load_gguf_model() repacks such tensors to Q8_0 without loss.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find_tensor(const std::string& name) const;
  // Offset of tensor i's data relative to the data section.
  uint64_t tensor_offset(size_t i) const { return offsets_[i]; }

 private:
  friend class GgufParser;
  std::string what_;
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<TensorView> tensors_;
  std::vector<uint64_t> offsets_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace stemma
