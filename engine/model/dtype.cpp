#include "engine/model/dtype.h"

namespace stemma {

int64_t dtype_block_elems(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
      return 1;
    case DType::kQ4_0:
    case DType::kQ8_0:
      return 32;
    case DType::kQ4_K:
    case DType::kQ6_K:
      return 256;
  }
  return 0;
}

size_t dtype_block_bytes(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kQ4_0:
      return 18;  // fp16 scale + 16 bytes of nibbles
    case DType::kQ8_0:
      return 34;  // fp16 scale + 32 int8
    case DType::kQ4_K:
      return 144;  // fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
    case DType::kQ6_K:
      return 210;  // 128 low nibbles, 64 high 2-bit pairs, 16 int8 scales, fp16 d
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kF16:
      return "f16";
    case DType::kBF16:
      return "bf16";
    case DType::kQ4_0:
      return "q4_0";
    case DType::kQ8_0:
      return "q8_0";
    case DType::kQ4_K:
      return "q4_k";
    case DType::kQ6_K:
      return "q6_k";
  }
  return "unknown";
}

bool dtype_is_known(uint32_t ggml_type_id) {
  switch (ggml_type_id) {
    case 0:
    case 1:
    case 2:
    case 8:
    case 12:
    case 14:
    case 30:
      return true;
    default:
      return false;
  }
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ8_0, DType::kQ4_K,
                  DType::kQ6_K}) {
    std::string_view n = dtype_name(t);
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < n.size(); ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != n[i]) same = false;
    }
    if (same) return t;
  }
  return std::nullopt;
}

const char* ggml_type_name(uint32_t ggml_type_id) {
  // GGML's full list, so that files with types we do not implement are refused by name.
  static const char* const kNames[] = {
      "f32",   "f16",        "q4_0",       "q4_1",       "q4_2(removed)", "q4_3(removed)", "q5_0",
      "q5_1",  "q8_0",       "q8_1",       "q2_k",       "q3_k",          "q4_k",          "q5_k",
      "q6_k",  "q8_k",       "iq2_xxs",    "iq2_xs",     "iq3_xxs",       "iq1_s",         "iq4_nl",
      "iq3_s", "iq2_s",      "iq4_xs",     "i8",         "i16",           "i32",           "i64",
      "f64",   "iq1_m",      "bf16",       "q4_0_4_4",   "q4_0_4_8",      "q4_0_8_8",      "tq1_0",
      "tq2_0", "iq4_nl_4_4", "iq4_nl_4_8", "iq4_nl_8_8", "mxfp4"};
  if (ggml_type_id < sizeof(kNames) / sizeof(kNames[0])) return kNames[ggml_type_id];
  return "unknown";
}

bool dtype_row_bytes(DType t, int64_t n_elems, size_t* out) {
  int64_t be = dtype_block_elems(t);
  if (n_elems < 0 || be <= 0 || n_elems % be != 0) return false;
  uint64_t blocks = static_cast<uint64_t>(n_elems / be);
  uint64_t bb = dtype_block_bytes(t);
  if (blocks != 0 && bb > UINT64_MAX / blocks) return false;
  *out = static_cast<size_t>(blocks * bb);
  return true;
}

}  // namespace stemma
