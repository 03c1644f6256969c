// GGUF metadata values: every type of the format, arrays of any type (nested too).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace stemma {

// GGUF's value type ids.
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
const char* gguf_type_name(GgufType t);

struct GgufValue;
struct GgufArray {
  GgufType elem_type = GgufType::kUint8;
  std::vector<GgufValue> items;  // all of elem_type
};

// The variant's alternatives are in GGUF type-id order, so index() == the type id.
struct GgufValue {
  using Variant = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, GgufArray, uint64_t, int64_t, double>;
  Variant v;

  GgufValue() = default;
  template <typename T>
  explicit GgufValue(T x) : v(std::move(x)) {}
  GgufType type() const { return static_cast<GgufType>(v.index()); }

  // Helpers for writers.
  static GgufValue str(std::string s) { return GgufValue(std::move(s)); }
  static GgufValue string_array(const std::vector<std::string>& xs);
  static GgufValue f32_array(const std::vector<float>& xs);
  static GgufValue i32_array(const std::vector<int32_t>& xs);
};

bool operator==(const GgufArray& a, const GgufArray& b);
inline bool operator==(const GgufValue& a, const GgufValue& b) {
  return a.v == b.v;
}

}  // namespace stemma
