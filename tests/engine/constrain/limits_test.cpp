// Regression tests for hostile input to the constraint compilers (issue 15): nesting that would
// exhaust the stack is refused with an error naming the limit, before any recursive walk runs.
#include <doctest/doctest.h>

#include <string>

#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/dfa.h"
#include "engine/constrain/json_nesting.h"
#include "engine/constrain/json_schema.h"

namespace sc = stemma::constrain;
using stemma::StatusCode;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("a regex with 20,000 nested groups is refused, not recursed into") {
  const std::string deep = repeat("(", 20000) + "a" + repeat(")", 20000);
  auto dfa = sc::compile_regex(deep);
  REQUIRE_FALSE(dfa.ok());
  CHECK(dfa.status().code() == StatusCode::kInvalidArgument);
  CHECK(dfa.status().message().find("nested deeper than 100") != std::string::npos);
  // Non-capturing groups and alternations inside them count the same.
  auto alt = sc::compile_regex(repeat("(?:a|", 20000) + "b" + repeat(")", 20000));
  REQUIRE_FALSE(alt.ok());
  CHECK(alt.status().message().find("nested deeper") != std::string::npos);
  // At the limit it still compiles.
  CHECK(sc::compile_regex(repeat("(", 100) + "a" + repeat(")", 100)).ok());
}

TEST_CASE("stacked quantifiers are bounded") {
  auto dfa = sc::compile_regex("a" + repeat("{1}", 20000));
  REQUIRE_FALSE(dfa.ok());
  CHECK(dfa.status().message().find("quantifiers on one atom") != std::string::npos);
  CHECK(sc::compile_regex("a{1}{2}").ok());
}

TEST_CASE("a schema pattern with 20,000 nested groups is refused naming the pattern") {
  const std::string pattern = repeat("(", 20000) + "a" + repeat(")", 20000);
  const std::string schema = R"({"type":"string","pattern":")" + pattern + R"("})";
  auto r = sc::json_schema_to_regex(schema);
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->ok());
  CHECK(r->status().message().find("pattern") != std::string::npos);
  CHECK(r->status().message().find("nested deeper") != std::string::npos);
}

TEST_CASE("a JSON Schema nested 50,000 deep is refused before it is parsed") {
  const std::string schema =
      repeat(R"({"type":"object","properties":{"a":)", 50000) + "{}" + repeat("}}", 50000);
  auto r = sc::json_schema_to_regex(schema);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("nests deeper than 512") != std::string::npos);
  // Arrays of arrays, and brackets inside strings do not count.
  auto arrays = sc::json_schema_to_regex(repeat(R"({"items":)", 50000) + "{}" + repeat("}", 50000));
  REQUIRE_FALSE(arrays.ok());
  CHECK(sc::check_json_nesting(R"({"a":"[[[[[[[[\"[[[["})", 1, "x").ok());
  CHECK_FALSE(sc::check_json_nesting(R"({"a":[[1]]})", 2, "x").ok());
}

TEST_CASE("schema nesting under the JSON limit is stopped by the translator's own limit") {
  // 300 levels of schema (600 of JSON) pass the pre-scan; the translation refuses them by name.
  const std::string schema =
      repeat(R"({"type":"object","properties":{"a":)", 240) + "{}" + repeat("}}", 240);
  auto r = sc::json_schema_to_regex(schema);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("deeper than 200") != std::string::npos);
}

TEST_CASE("a $ref chain 10,000 long is refused, not recursed into") {
  std::string defs;
  for (int i = 0; i < 10000; ++i) {
    defs += (i ? "," : "") + std::string("\"d") + std::to_string(i) + "\":{\"$ref\":\"#/$defs/d" +
            std::to_string(i + 1) + "\"}";
  }
  defs += ",\"d10000\":{\"type\":\"integer\"}";
  const std::string schema = R"({"$ref":"#/$defs/d0","$defs":{)" + defs + "}}";
  auto r = sc::json_schema_to_regex(schema);
  const bool refused = !r.ok() || !r->ok();
  CHECK(refused);
}
