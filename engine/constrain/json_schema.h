// JSON Schema -> regex. The regex matches exactly the JSON texts that we let a model write for
// the schema: a subset of the valid instances (sound), chosen to be compact and predictable.
//
// Policy (documented in docs/constrain.md):
// - Whitespace: none by default (compact JSON, like json.dumps(separators=(",", ":"))); with
//   `whitespace > 0`, up to that many of [ \t\n] around structural characters.
// - Objects: properties in the schema's order; required ones always present, optional ones may
//   be left out; no properties beyond `properties` unless additionalProperties is a schema and
//   `properties` is empty (a map).
// - Recursion ($ref cycles): each $ref that recurs becomes a grammar rule (SchemaRegex::rules,
//   called as (?&k) in the regexes), run by a pushdown automaton: nesting is unbounded up to
//   max_stack_depth, an error past it. Schemas without a $ref cycle stay one regex (a DFA).
//   JsonRecursion::kUnroll keeps the older bounded unrolling instead. Free JSON values nest
//   objects/arrays up to any_value_depth.
// - Keywords we cannot enforce are reported by name in `unsupported`, never ignored silently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"

namespace stemma::constrain {

enum class JsonRecursion {
  kGrammar,  // a recursive $ref is a grammar rule: unbounded nesting (pushdown automaton)
  kUnroll,   // a $ref nests inside itself at most max_recursion_depth times (one DFA)
};

struct JsonSchemaOptions {
  int whitespace = 0;  // max whitespace characters at each structural position
  JsonRecursion recursion = JsonRecursion::kGrammar;
  int max_recursion_depth = 3;   // kUnroll: how many times one $ref may nest inside itself
  int max_stack_depth = 10'000;  // kGrammar: deepest pushdown stack, in frames (~ nesting)
  int any_value_depth = 3;       // nesting depth of objects/arrays in untyped (free) values

  // Every option, as text: compiled constraints may be cached under schema + this.
  std::string cache_key() const;
};

// A grammar rule made from a recursive $ref: `regex` may call rules as (?&k).
struct SchemaRule {
  std::string name;  // the $ref (plus its sibling keywords, if any)
  std::string regex;
};

struct SchemaRegex {
  std::string regex;  // empty when `unsupported` is not; with rules, it calls them as (?&k)
  std::vector<SchemaRule> rules;         // non-empty only for schemas with $ref cycles
  std::vector<std::string> unsupported;  // "multipleOf at #/properties/price", ...
  std::vector<std::string> notes;        // approximations made (recursion depth, ...)
  bool ok() const { return unsupported.empty(); }
  bool is_grammar() const { return !rules.empty(); }
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
