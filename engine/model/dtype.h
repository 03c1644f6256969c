// Tensor element types. The numeric values are GGML's type ids, so GGUF files map directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace stemma {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ6_K = 14,
  kBF16 = 30,
};

// Elements per quantization block (1 for plain float types).
int64_t dtype_block_elems(DType t);
// Bytes per block.
size_t dtype_block_bytes(DType t);
// "f32", "q4_k", ...
const char* dtype_name(DType t);
// True for the ids above; GGUF files may name others, which we refuse by name.
bool dtype_is_known(uint32_t ggml_type_id);

// Extensions (model-io):
// "q8_0" / "Q8_0" -> kQ8_0; nullopt for names we do not implement.
std::optional<DType> dtype_from_name(std::string_view name);
// GGML's name for any type id, also those we do not implement ("q5_k", "iq2_xs"), for errors.
const char* ggml_type_name(uint32_t ggml_type_id);
// Bytes of `n_elems` elements stored as `t`; false when n_elems is not a whole number of blocks
// or the size overflows.
bool dtype_row_bytes(DType t, int64_t n_elems, size_t* out);

}  // namespace stemma
