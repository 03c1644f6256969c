// JSON Schema -> regex. The regex matches exactly the JSON texts that we let a model write for
// the schema: a subset of the valid instances (sound), chosen to be compact and predictable.
//
// Policy (documented in docs/constrain.md):
// - Whitespace: none by default (compact JSON, like json.dumps(separators=(",", ":"))); with
//   `whitespace > 0`, up to that many of [ \t\n] around structural characters.
// - Objects: properties in the schema's order; required ones always present, optional ones may
//   be left out; no properties beyond `properties` unless additionalProperties is a schema and
//   `properties` is empty (a map).
// - Recursion ($ref cycles) and free JSON values are unrolled to a bounded depth, so the result
//   is still a finite automaton; beyond the depth a recursive branch is closed off.
// - Keywords we cannot enforce are reported by name in `unsupported`, never ignored silently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/common/status.h"

namespace stemma::constrain {

struct JsonSchemaOptions {
  int whitespace = 0;           // max whitespace characters at each structural position
  int max_recursion_depth = 3;  // how many times one $ref may nest inside itself
  int any_value_depth = 3;      // nesting depth of objects/arrays in untyped (free) values
};

struct SchemaRegex {
  std::string regex;                     // empty when `unsupported` is not
  std::vector<std::string> unsupported;  // "multipleOf at #/properties/price", ...
  std::vector<std::string> notes;        // approximations made (recursion depth, ...)
  bool ok() const { return unsupported.empty(); }
  // OK, or Unsupported naming every keyword we cannot enforce.
  Status status() const;
};

// Fails only on malformed input (not JSON, a dangling $ref, a contradiction); keywords we
// cannot enforce come back in `unsupported`.
Result<SchemaRegex> json_schema_to_regex(std::string_view schema_json,
                                         const JsonSchemaOptions& options = {});

// A regex for any JSON value, nested up to `depth` levels of objects/arrays.
std::string any_json_value_regex(int depth, int whitespace = 0);

// A regex for exactly one of `choices` (literal strings), for select-style decoding.
std::string choices_regex(const std::vector<std::string>& choices);

}  // namespace stemma::constrain
