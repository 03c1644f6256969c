// Reading .safetensors files: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and [begin, end) byte range in the data area, then the data. Tensors are
// used in place from the mmap; everything in the header is checked against the file first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/common/mapped_file.h"
#include "engine/model/tensor.h"

namespace stemma {

struct SafetensorsFile {
  std::shared_ptr<MappedFile> file;
  std::vector<TensorView> tensors;  // names as the file spells them (HF names), file order
};

// Parses a safetensors image in memory. `what` names it in errors (usually the path).
// Supported dtypes: F32, F16, BF16; others are refused by name.
Result<std::vector<TensorView>> parse_safetensors(const uint8_t* data, size_t size,
                                                  const std::string& what);

// Maps and parses `path`.
Result<SafetensorsFile> open_safetensors(const std::string& path);

}  // namespace stemma
