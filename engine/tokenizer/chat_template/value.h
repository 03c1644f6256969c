// Values of the Jinja-subset interpreter, with Python's semantics where chat templates rely on
// them: truthiness, ==, str() and repr(), and json.dumps for the tojson filter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/status.h"

namespace stemma::jinja {

class Value;
using ValueList = std::vector<Value>;
// Insertion-ordered, like a Python dict.
using ValueDict = std::vector<std::pair<std::string, Value>>;

struct CallArgs;
using NativeFunction = std::function<Result<Value>(CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // undefined
  static Value none() {
    Value v;
    v.kind_ = Kind::kNone;
    return v;
  }
  static Value boolean(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.int_ = b;
    return v;
  }
  static Value integer(int64_t i) {
    Value v;
    v.kind_ = Kind::kInt;
    v.int_ = i;
    return v;
  }
  static Value floating(double d) {
    Value v;
    v.kind_ = Kind::kFloat;
    v.float_ = d;
    return v;
  }
  static Value string(std::string s) {
    Value v;
    v.kind_ = Kind::kString;
    v.str_ = std::make_shared<std::string>(std::move(s));
    return v;
  }
  static Value list(ValueList items = {}) {
    Value v;
    v.kind_ = Kind::kList;
    for (const auto& i : items) v.depth_ = std::max(v.depth_, i.depth_ + 1);
    v.list_ = std::make_shared<ValueList>(std::move(items));
    return v;
  }
  static Value dict(ValueDict items = {}, bool is_namespace = false) {
    Value v;
    v.kind_ = Kind::kDict;
    for (const auto& [k, i] : items) v.depth_ = std::max(v.depth_, i.depth_ + 1);
    v.dict_ = std::make_shared<ValueDict>(std::move(items));
    v.namespace_ = is_namespace;
    return v;
  }
  static Value function(std::string name, NativeFunction fn) {
    Value v;
    v.kind_ = Kind::kFunction;
    v.str_ = std::make_shared<std::string>(std::move(name));
    v.fn_ = std::make_shared<NativeFunction>(std::move(fn));
    return v;
  }
  // JSON nested deeper than kMaxJsonDepth throws std::length_error (a caller's messages or
  // tools must not make the conversion recurse without bound).
  static constexpr int kMaxJsonDepth = 256;
  static Value from_json(const nlohmann::ordered_json& j, int depth = 0);

  Kind kind() const { return kind_; }
  // How deep lists and dicts nest inside this value (0 for scalars; as built: a namespace's
  // later assignments do not update it).
  int depth() const { return depth_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kDict && namespace_; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_double() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return *str_; }
  ValueList& as_list() const { return *list_; }
  ValueDict& as_dict() const { return *dict_; }
  const NativeFunction& as_function() const { return *fn_; }
  const std::string& function_name() const { return *str_; }

  // Dict lookup; undefined when absent (or when this is not a dict).
  Value get(const std::string& key) const;
  void set(const std::string& key, Value v) const;

  bool truthy() const;
  // Python's str(): strings as they are, None -> "None", True -> "True", lists and dicts as
  // their repr. Undefined -> "".
  std::string str() const;
  // Python's repr().
  std::string repr() const;
  const char* type_name() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool namespace_ = false;
  int depth_ = 0;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<std::string> str_;
  std::shared_ptr<ValueList> list_;
  std::shared_ptr<ValueDict> dict_;
  std::shared_ptr<NativeFunction> fn_;
};

// Python ==.
bool values_equal(const Value& a, const Value& b);

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The keyword `name`, else positional `index`, else undefined.
  Value arg(size_t index, const std::string& name) const;
};

// json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys) with Python's
// default separators (", " and ": ", or "," and ": " when indenting). indent < 0: none.
// Output over max_bytes is an error.
Result<std::string> to_python_json(const Value& value, int indent, bool sort_keys,
                                   size_t max_bytes = SIZE_MAX);

// Python's repr() of a float (shortest round-trip digits, "1.0", "1e-05", "inf").
std::string python_float_repr(double d);

}  // namespace stemma::jinja
