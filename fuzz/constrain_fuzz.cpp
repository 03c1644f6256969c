// Fuzz target: constraint compilation. The first byte picks the input's kind (a JSON Schema or
// a regex) and options; the rest is the schema or pattern, compiled to a DFA (or grammar rules)
// with small state limits so one input stays fast, and the DFA is walked over a few strings.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/constrain/dfa.h"
#include "engine/constrain/json_schema.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stemma;
  using namespace stemma::constrain;
  fuzz::Reader r(data, size);
  const uint8_t mode = r.byte();
  const std::string text(r.rest());
  DfaOptions dfa_options;
  dfa_options.max_nfa_states = 20'000;
  dfa_options.max_dfa_states = 2'000;
  std::string regex;
  int32_t rules = 0;
  if (mode & 1) {
    JsonSchemaOptions o;
    o.whitespace = (mode >> 1) & 3;
    o.recursion = (mode & 8) ? JsonRecursion::kUnroll : JsonRecursion::kGrammar;
    o.max_recursion_depth = 1 + ((mode >> 4) & 1);
    o.any_value_depth = 1 + ((mode >> 5) & 1);
    auto s = json_schema_to_regex(text, o);
    if (!s.ok() || !s->ok()) return 0;
    regex = s->regex;
    rules = static_cast<int32_t>(s->rules.size());
    for (const SchemaRule& rule : s->rules) {
      RegexParseOptions po;
      po.num_rules = rules;
      (void)compile_regex(rule.regex, po, dfa_options);
    }
  } else {
    regex = text;
  }
  RegexParseOptions po;
  po.num_rules = rules;
  po.search_semantics = (mode & 2) != 0 && rules == 0;
  auto dfa = compile_regex(regex, po, dfa_options);
  if (!dfa.ok()) return 0;
  for (const char* probe : {"", "{}", "{\"a\": 1}", "[1, 2]", "\"x\"", "abc", "0"}) {
    (void)dfa->matches(probe);
  }
  (void)dfa->empty_language();
  return 0;
}
