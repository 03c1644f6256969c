#include "engine/model/gguf_value.h"

namespace stemma {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
      return "uint8";
    case GgufType::kInt8:
      return "int8";
    case GgufType::kUint16:
      return "uint16";
    case GgufType::kInt16:
      return "int16";
    case GgufType::kUint32:
      return "uint32";
    case GgufType::kInt32:
      return "int32";
    case GgufType::kFloat32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "uint64";
    case GgufType::kInt64:
      return "int64";
    case GgufType::kFloat64:
      return "float64";
  }
  return "unknown";
}

bool operator==(const GgufArray& a, const GgufArray& b) {
  return a.elem_type == b.elem_type && a.items == b.items;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& xs) {
  GgufArray a;
  a.elem_type = GgufType::kString;
  a.items.reserve(xs.size());
  for (const auto& s : xs) a.items.emplace_back(s);
  return GgufValue(std::move(a));
}

GgufValue GgufValue::f32_array(const std::vector<float>& xs) {
  GgufArray a;
  a.elem_type = GgufType::kFloat32;
  a.items.reserve(xs.size());
  for (float x : xs) a.items.emplace_back(x);
  return GgufValue(std::move(a));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& xs) {
  GgufArray a;
  a.elem_type = GgufType::kInt32;
  a.items.reserve(xs.size());
  for (int32_t x : xs) a.items.emplace_back(x);
  return GgufValue(std::move(a));
}

}  // namespace stemma
