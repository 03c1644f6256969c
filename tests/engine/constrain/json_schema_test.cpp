// JSON Schema -> automaton over the 200+ schema fixture set.
// Completeness: every valid instance (made by tools/constrain/make_schemas.py and checked with
// Python's jsonschema there) is accepted, byte by byte and token by token through the masks.
// Soundness: outputs sampled under the constraint by a random "model" are written to
// constrain_outputs.jsonl; the ctest constrain_validate_outputs checks them with jsonschema.
#include <doctest/doctest.h>
#include <re2/re2.h>

#include <nlohmann/json.hpp>

#include "engine/constrain/json_schema.h"
#include "engine/constrain/utf8.h"
#include "test_support.h"

namespace sc = stemma::constrain;
using namespace stemma::constrain::testing;

namespace {

struct Compiled {
  std::string file;
  std::string regex;
  std::shared_ptr<const sc::CompiledConstraint> constraint;
};

// Every fixture schema (the top-level set and schemas/recursive/), compiled as the engine
// compiles it: a DFA, or a grammar where the schema has $ref cycles. `regex` is the DFA's
// regex (RE2 cross-checks), empty for grammars.
const std::vector<Compiled>& compiled_schemas() {
  static std::vector<Compiled> all = [] {
    std::vector<Compiled> out;
    auto index = synthetic_index();
    for (const std::string& f : all_schema_files()) {
      std::string text = read_file(fixtures_dir() + "/schemas/" + f);
      auto regex = sc::json_schema_to_regex(text);
      REQUIRE_MESSAGE(regex.ok(), f << ": " << regex.status().to_string());
      REQUIRE_MESSAGE(regex->ok(), f << ": " << regex->status().to_string());
      auto c = sc::CompiledConstraint::from_json_schema(text, index);
      REQUIRE_MESSAGE(c.ok(), f << ": " << c.status().to_string());
      REQUIRE((*c)->is_grammar() == regex->is_grammar());
      out.push_back({f, regex->is_grammar() ? "" : regex->regex, *c});
    }
    return out;
  }();
  return all;
}

std::vector<std::pair<std::string, std::string>> instances(
    const std::string& file = "instances.jsonl") {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(fixtures_dir() + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    out.push_back({j["schema"].get<std::string>(), j["text"].get<std::string>()});
  }
  return out;
}

const Compiled* find(const std::string& file) {
  for (const Compiled& c : compiled_schemas()) {
    if (c.file == file) return &c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the fixture set has at least 200 schemas and they all compile") {
  CHECK(compiled_schemas().size() >= 200);
  int grammars = 0;
  for (const Compiled& c : compiled_schemas()) grammars += c.constraint->is_grammar();
  CHECK(grammars >= 25);  // the recursive ones: 19 in the main set, 6 in schemas/recursive
}

TEST_CASE("schemas without a $ref cycle keep the plain DFA path, unchanged") {
  // The same regex as the unrolled translation (which never unrolls without a cycle), and a
  // DFA constraint.
  sc::JsonSchemaOptions unroll;
  unroll.recursion = sc::JsonRecursion::kUnroll;
  int plain = 0;
  for (const std::string& f : schema_files()) {
    const std::string text = read_file(fixtures_dir() + "/schemas/" + f);
    auto g = sc::json_schema_to_regex(text);
    auto u = sc::json_schema_to_regex(text, unroll);
    REQUIRE(g.ok());
    REQUIRE(u.ok());
    if (g->is_grammar()) continue;
    CHECK_MESSAGE(g->regex == u->regex, f);
    ++plain;
  }
  CHECK(plain >= 190);
}

TEST_CASE("completeness: every valid instance is accepted byte by byte, and RE2 agrees") {
  auto all = instances();
  REQUIRE(all.size() >= 600);
  int re2_checked = 0;
  std::map<std::string, std::unique_ptr<RE2>> re2s;
  for (const auto& [file, text] : all) {
    const Compiled* c = find(file);
    REQUIRE_MESSAGE(c, file);
    CHECK_MESSAGE(constraint_matches(*c->constraint, text), file << " rejects " << text);
    if (c->regex.empty()) continue;  // a grammar: no RE2 counterpart
    auto& re = re2s[file];
    if (!re) {
      RE2::Options opts;
      opts.set_max_mem(64 << 20);
      opts.set_log_errors(false);
      re = std::make_unique<RE2>(c->regex, opts);
    }
    if (re->ok()) {
      CHECK_MESSAGE(RE2::FullMatch(text, *re), file << ": RE2 rejects " << text);
      ++re2_checked;
    }
  }
  CHECK(re2_checked > static_cast<int>(all.size()) / 2);
}

TEST_CASE("completeness: deep instances of recursive schemas, past the old unrolling limit") {
  // Made by tools/constrain/make_deep_instances.py (nesting up to 12 levels of one $ref),
  // each validated by jsonschema there. Accepted byte by byte and token by token under the
  // grammar; the unrolled DFA (max_recursion_depth 3, the old behaviour) rejects them.
  auto deep = instances("deep_instances.jsonl");
  REQUIRE(deep.size() >= 60);
  auto index = synthetic_index();
  sc::LongestMatchEncoder encoder(index);
  sc::JsonSchemaOptions unroll;
  unroll.recursion = sc::JsonRecursion::kUnroll;
  std::map<std::string, std::shared_ptr<const sc::CompiledConstraint>> unrolled;
  int rejected_by_unrolled = 0;
  size_t deepest = 0;
  for (const auto& [file, text] : deep) {
    const Compiled* c = find(file);
    REQUIRE_MESSAGE(c, file);
    REQUIRE(c->constraint->is_grammar());
    CHECK_MESSAGE(constraint_matches(*c->constraint, text), file << " rejects " << text);
    sc::ConstraintState state(c->constraint);
    for (int32_t id : encoder.encode(text)) {
      REQUIRE_MESSAGE(state.current_mask()->test(id), file << ": token '"
                                                           << index->vocab().tokens[id]
                                                           << "' masked out in " << text);
      REQUIRE(state.accept_token(id).ok());
      deepest = std::max(deepest, static_cast<size_t>(state.stack_depth()));
    }
    CHECK(state.can_end());
    CHECK(state.current_mask()->test(index->vocab().eos_ids[0]));
    auto& u = unrolled[file];
    if (!u) {
      auto compiled = sc::CompiledConstraint::from_json_schema(
          read_file(fixtures_dir() + "/schemas/" + file), index, unroll);
      REQUIRE(compiled.ok());
      u = *compiled;
    }
    rejected_by_unrolled += !u->dfa().matches(text);
  }
  CHECK(rejected_by_unrolled == static_cast<int>(deep.size()));
  CHECK(deepest >= 12);
}

TEST_CASE("completeness: masks never exclude a token the instance needs (synthetic vocab)") {
  auto index = synthetic_index();
  sc::LongestMatchEncoder encoder(index);
  for (const auto& [file, text] : instances()) {
    const Compiled* c = find(file);
    REQUIRE(c);
    std::vector<int32_t> ids = encoder.encode(text);
    REQUIRE_MESSAGE(!ids.empty(), text);
    sc::ConstraintState state(c->constraint);
    for (int32_t id : ids) {
      REQUIRE_MESSAGE(state.current_mask()->test(id), file << ": token '"
                                                           << index->vocab().tokens[id]
                                                           << "' masked out in " << text);
      REQUIRE(state.accept_token(id).ok());
    }
    CHECK(state.can_end());
    CHECK(state.current_mask()->test(index->vocab().eos_ids[0]));
  }
}

TEST_CASE("completeness under the Llama 3 vocabulary (its tokenization of each instance)") {
  auto index = real_index("llama3");
  if (!index) {
    MESSAGE("skipped: .assets/tokenizers/llama3/tokenizer.json is absent");
    return;
  }
  sc::LongestMatchEncoder encoder(index);
  auto all = instances();
  int checked = 0;
  for (size_t i = 0; i < all.size(); i += 7) {  // a spread of instances keeps this quick
    const auto& [file, text] = all[i];
    const Compiled* c = find(file);
    REQUIRE(c);
    auto constraint = sc::CompiledConstraint::from_json_schema(
        read_file(fixtures_dir() + "/schemas/" + file), index);
    REQUIRE(constraint.ok());
    sc::ConstraintState state(*constraint);
    std::vector<int32_t> ids = encoder.encode(text);
    REQUIRE(!ids.empty());
    for (size_t t = 0; t < ids.size(); ++t) {
      // Full masks for the first tokens, the direct check (same criterion) for the rest.
      bool ok = t < 4 ? state.current_mask()->test(ids[t]) : state.is_allowed(ids[t]);
      REQUIRE_MESSAGE(ok, file << ": token " << ids[t] << " masked out in " << text);
      REQUIRE(state.accept_token(ids[t]).ok());
    }
    CHECK(state.can_end());
    ++checked;
  }
  CHECK(checked > 80);
}

TEST_CASE("completeness under the Llama 3 vocabulary: deep recursive instances, full masks") {
  auto index = real_index("llama3");
  if (!index) {
    MESSAGE("skipped: .assets/tokenizers/llama3/tokenizer.json is absent");
    return;
  }
  sc::LongestMatchEncoder encoder(index);
  std::map<std::string, std::shared_ptr<const sc::CompiledConstraint>> compiled;
  int tokens = 0;
  for (const auto& [file, text] : instances("deep_instances.jsonl")) {
    auto& c = compiled[file];
    if (!c) {
      auto r = sc::CompiledConstraint::from_json_schema(
          read_file(fixtures_dir() + "/schemas/" + file), index);
      REQUIRE_MESSAGE(r.ok(), file << ": " << r.status().to_string());
      c = *r;
    }
    sc::ConstraintState state(c);
    for (int32_t id : encoder.encode(text)) {
      REQUIRE_MESSAGE(state.current_mask()->test(id),
                      file << ": token " << id << " masked out in " << text);
      REQUIRE(state.accept_token(id).ok());
      ++tokens;
    }
    CHECK(state.can_end());
  }
  CHECK(tokens > 3000);
}

TEST_CASE("soundness: random-model outputs for every schema (validated by jsonschema)") {
  auto index = synthetic_index();
  sc::LongestMatchEncoder encoder(index);
  std::mt19937 rng(99);
  std::ofstream out(std::string(STEMMA_BUILD_DIR) + "/constrain_outputs.jsonl");
  REQUIRE(out.good());
  int written = 0;
  int32_t deepest = 0;
  for (const Compiled& c : compiled_schemas()) {
    // Recursive schemas get 4 more runs that first dive as deep as they can.
    const int runs = c.constraint->is_grammar() ? 8 : 4;
    for (int run = 0; run < runs; ++run) {
      int wander = run == 0 ? 0 : static_cast<int>(rng() % 120);
      const int dive = run >= 4 ? 40 + static_cast<int>(rng() % 160) : 0;
      GenerationResult g =
          generate_random(c.constraint, rng, dive + wander, run % 2 == 1, &encoder, dive);
      REQUIRE_MESSAGE(g.ended, c.file << ": generation got stuck after '" << g.text << "'");
      CHECK(constraint_matches(*c.constraint, g.text));
      std::vector<uint32_t> cps;
      REQUIRE_MESSAGE(sc::decode_utf8(g.text, &cps), c.file << ": invalid UTF-8 output");
      nlohmann::json line = {{"schema", c.file}, {"output", g.text}};
      out << line.dump() << "\n";
      ++written;
      if (c.constraint->is_grammar()) {
        sc::ConstraintState replay(c.constraint);
        for (int32_t t : g.tokens) {
          REQUIRE(replay.accept_token(t).ok());
          deepest = std::max(deepest, replay.stack_depth());
        }
      }
    }
  }
  CHECK(written >= 800);
  MESSAGE("deepest grammar stack in the soundness outputs: " << deepest);
  CHECK(deepest >= 12);
}

TEST_CASE("unsupported keywords are reported by name") {
  struct Case {
    const char* schema;
    const char* keyword;
  };
  const Case cases[] = {
      {R"({"type":"array","items":{"type":"string"},"uniqueItems":true})", "uniqueItems"},
      {R"({"type":"integer","multipleOf":5})", "multipleOf"},
      {R"({"type":"object","patternProperties":{"^x":{}}})", "patternProperties"},
      {R"({"not":{"type":"string"}})", "not"},
      {R"({"type":"string","format":"uri"})", "format 'uri'"},
      {R"({"oneOf":[{"type":"integer"},{"type":"number"}]})", "oneOf with overlapping"},
      {R"({"type":"string","pattern":"(?=a)b"})", "lookahead"},
      {R"({"$ref":"other.json#/a"})", "another document"},
  };
  for (const Case& c : cases) {
    auto r = sc::json_schema_to_regex(c.schema);
    REQUIRE_MESSAGE(r.ok(), c.schema << ": " << r.status().to_string());
    REQUIRE_MESSAGE(!r->ok(), c.schema);
    CHECK_MESSAGE(r->status().message().find(c.keyword) != std::string::npos,
                  r->status().message());
    CHECK(r->status().code() == stemma::StatusCode::kUnsupported);
  }
  // Malformed input is an error, not a crash.
  CHECK_FALSE(sc::json_schema_to_regex("{not json").ok());
  CHECK_FALSE(sc::json_schema_to_regex(R"({"$ref":"#/nowhere"})").ok());
  CHECK_FALSE(sc::json_schema_to_regex(R"({"type":7})").ok());
}

TEST_CASE("numbers have bounded lengths: a model cannot write digits until max_tokens") {
  // Issue 15 item 14: `[0-9]*` let the digits run to max_tokens, and the text never parsed.
  auto matches = [](const char* schema, const std::string& text) {
    auto r = sc::json_schema_to_regex(schema);
    REQUIRE(r.ok());
    REQUIRE(r->ok());
    return RE2::FullMatch(text, RE2(r->regex));
  };
  const std::string d19(19, '9'), d20 = "1" + std::string(19, '0');
  for (const char* s : {R"({"type":"integer"})", R"({"type":"integer","minimum":5})",
                        R"({"type":"integer","maximum":-5})"}) {
    INFO(s);
    CHECK(matches(s, "-" + d19) == (std::string(s).find("minimum") == std::string::npos));
    CHECK(matches(s, "-" + d20) == false);
    CHECK(matches(s, d20) == false);
  }
  CHECK(matches(R"({"type":"integer","minimum":5})", d19));
  CHECK(matches(R"({"type":"integer","minimum":1000000000000000000})", d19));
  const char* num = R"({"type":"number"})";
  const char* num_min = R"({"type":"number","minimum":0})";
  for (const char* s : {num, num_min}) {
    INFO(s);
    CHECK(matches(s, d19 + "." + std::string(17, '5')));
    CHECK_FALSE(matches(s, d19 + "." + std::string(18, '5')));
    CHECK_FALSE(matches(s, d20 + ".5"));
  }
  CHECK(matches(num, "-1.5e-308"));
  CHECK_FALSE(matches(num, "1e1000"));
  CHECK(matches(R"({"type":"number","maximum":3})", "3." + std::string(17, '0')));
  CHECK_FALSE(matches(R"({"type":"number","maximum":3})", "3." + std::string(18, '0')));
  // Untyped values hold numbers too.
  CHECK(matches(R"({})", "[1.25,-7]"));
  CHECK_FALSE(matches(R"({})", "[" + d20 + "]"));
}

TEST_CASE("whitespace policy: compact by default, bounded whitespace on request") {
  const char* schema =
      R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]})";
  auto compact = sc::json_schema_to_regex(schema);
  REQUIRE(compact.ok());
  auto dfa = sc::compile_regex(compact->regex);
  REQUIRE(dfa.ok());
  CHECK(dfa->matches("{\"a\":1}"));
  CHECK_FALSE(dfa->matches("{\"a\": 1}"));
  sc::JsonSchemaOptions loose;
  loose.whitespace = 2;
  auto spaced = sc::json_schema_to_regex(schema, loose);
  REQUIRE(spaced.ok());
  auto dfa2 = sc::compile_regex(spaced->regex);
  REQUIRE(dfa2.ok());
  CHECK(dfa2->matches("{ \"a\": 1 }"));
  CHECK_FALSE(dfa2->matches("{\"a\":    1}"));
}
