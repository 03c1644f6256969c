// Token masks, the per-request ConstraintState, jump-forward, choices and the vocab loader.
#include <doctest/doctest.h>
#include <re2/re2.h>

#include <cmath>
#include <random>
#include <set>

#include "engine/constrain/choice.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/utf8.h"
#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"
#include "test_support.h"

namespace sc = stemma::constrain;
using namespace stemma::constrain::testing;

namespace {

// Every token's mask bit must equal "its bytes walk the DFA without dying" (EOS: accepting).
void check_mask_matches_walk(const sc::CompiledConstraint& c, int32_t state) {
  const sc::TokenMask& mask = c.mask(state);
  const sc::Vocabulary& v = c.index().vocab();
  int32_t mismatches = 0;
  for (int32_t id = 0; id < v.size(); ++id) {
    bool expect;
    if (c.index().is_eos(id)) {
      expect = c.dfa().is_accepting(state);
    } else if (v.special[id] || v.tokens[id].empty()) {
      expect = false;
    } else {
      expect = c.dfa().walk(state, v.tokens[id]) != sc::Dfa::kDead;
    }
    if (mask.test(id) != expect) ++mismatches;
  }
  CHECK_MESSAGE(mismatches == 0, "state " << state);
}

const char* kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 40},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string", "format": "email"},
    "role": {"enum": ["admin", "editor", "viewer"]},
    "active": {"type": "boolean"}
  },
  "required": ["name", "age", "role", "active"]
})";

}  // namespace

TEST_CASE("TokenMask bits across word boundaries; apply masks the rest and padding rows") {
  std::mt19937 rng(3);
  for (int32_t size : {1, 63, 64, 65, 130, 1000}) {
    sc::TokenMask mask(size);
    std::vector<bool> want(static_cast<size_t>(size), false);
    // Some full words, some sparse bits.
    for (int32_t i = 0; i < size; ++i) {
      const bool on = (i / 64) % 2 == 0 ? true : rng() % 5 == 0;
      if (on) mask.set(i), want[static_cast<size_t>(i)] = true;
    }
    if (size > 3) mask.reset(2), want[2] = false;
    int32_t count = 0;
    for (int32_t i = 0; i < size; ++i) {
      CHECK(mask.test(i) == want[static_cast<size_t>(i)]);
      count += want[static_cast<size_t>(i)] ? 1 : 0;
    }
    CHECK(mask.count() == count);
    CHECK_FALSE(mask.test(size));
    CHECK_FALSE(mask.test(-1));
    std::vector<float> logits(static_cast<size_t>(size) + 7, 1.0f);  // 7 padding rows
    mask.apply_to_logits(logits.data(), static_cast<int32_t>(logits.size()));
    for (size_t i = 0; i < logits.size(); ++i) {
      const bool allowed = i < want.size() && want[i];
      CHECK(std::isinf(logits[i]) == !allowed);
    }
  }
}

TEST_CASE("masks equal a direct DFA walk of every token (synthetic vocabulary)") {
  auto index = synthetic_index();
  auto schema = sc::json_schema_to_regex(kPersonSchema);
  REQUIRE(schema.ok());
  auto c = sc::CompiledConstraint::from_regex(schema->regex, index);
  REQUIRE(c.ok());
  for (int32_t s = 0; s < (*c)->dfa().num_states(); ++s) check_mask_matches_walk(**c, s);
  CHECK((*c)->cached_masks() == static_cast<size_t>((*c)->dfa().num_states()));
}

TEST_CASE("masks equal a direct DFA walk on the real Llama 3 and Qwen vocabularies") {
  for (const char* name : {"llama3", "qwen2"}) {
    auto index = real_index(name);
    if (!index) {
      MESSAGE("skipped: no .assets/tokenizers/" << name);
      continue;
    }
    CHECK(index->size() > 100000);
    auto schema = sc::json_schema_to_regex(kPersonSchema);
    REQUIRE(schema.ok());
    auto c = sc::CompiledConstraint::from_regex(schema->regex, index);
    REQUIRE(c.ok());
    // The start, a state inside a string, one inside a number, and an accepting state.
    sc::ConstraintState st(*c);
    std::vector<int32_t> states{st.dfa_state()};
    const sc::Dfa& dfa = (*c)->dfa();
    states.push_back(dfa.walk(dfa.start, "{\"name\":\"Jo"));
    states.push_back(dfa.walk(dfa.start, "{\"name\":\"Jo\",\"age\":1"));
    states.push_back(
        dfa.walk(dfa.start, "{\"name\":\"Jo\",\"age\":1,\"role\":\"admin\",\"active\":true}"));
    for (int32_t s : states) {
      REQUIRE(s >= 0);
      check_mask_matches_walk(**c, s);
    }
    CHECK(dfa.is_accepting(states.back()));
    CHECK((*c)->mask(states.back()).count() == static_cast<int32_t>(index->vocab().eos_ids.size()));
  }
}

TEST_CASE("ConstraintState: tokens, EOS only when complete, rollback") {
  auto index = synthetic_index();
  auto c = sc::CompiledConstraint::from_regex("(?:ab|cd)e?", index);
  REQUIRE(c.ok());
  const int32_t eos = index->vocab().eos_ids[0];
  const int32_t special = index->size() - 2;
  sc::ConstraintState st(*c);
  CHECK_FALSE(st.can_end());
  CHECK_FALSE(st.accept_token(eos).ok());
  CHECK_FALSE(st.accept_token(special).ok());
  CHECK_FALSE(st.accept_token('b').ok());
  CHECK_FALSE(st.accept_token(-1).ok());
  CHECK_FALSE(st.accept_token(index->size()).ok());
  CHECK(st.num_tokens() == 0);
  REQUIRE(st.accept_token('a').ok());
  CHECK(st.jump_forward_bytes() == "b");
  REQUIRE(st.accept_token('b').ok());
  CHECK(st.can_end());
  CHECK_FALSE(st.is_finished());
  sc::TokenMask mask;
  st.allowed_tokens(&mask);
  CHECK(mask.count() == 2);  // 'e' or EOS
  CHECK(mask.test('e'));
  CHECK(mask.test(eos));
  REQUIRE(st.accept_token('e').ok());
  CHECK(st.is_finished());  // nothing can follow
  REQUIRE(st.rollback(2).ok());
  CHECK(st.num_tokens() == 1);
  CHECK_FALSE(st.rollback(5).ok());
  REQUIRE(st.accept_token('b').ok());
  REQUIRE(st.accept_token(eos).ok());
  CHECK(st.is_finished());
  CHECK(st.current_mask() == nullptr);
  CHECK_FALSE(st.accept_token('e').ok());
  st.allowed_tokens(&mask);
  CHECK(mask.count() == 0);
}

TEST_CASE("jump-forward bytes stop at real choices and at UTF-8 boundaries") {
  auto index = synthetic_index();
  auto c = sc::CompiledConstraint::from_regex(
      "\\{\"key\":(?:\"\xc3\xa9t\xc3\xa9\"|\"\xc3\xa0\")\\}", index);
  REQUIRE(c.ok());
  sc::ConstraintState st(*c);
  // Forced up to the value's quote; then \xc3 is shared by both choices but is only half a
  // character, so it is not emitted on its own.
  CHECK(st.jump_forward_bytes() == "{\"key\":\"");
}

TEST_CASE("jump-forward re-tokenizes across the boundary and rolls back what changed") {
  sc::Vocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(std::string(1, static_cast<char>(b)));
  for (const char* p : {"\"name", "\":", "na", "me"}) v.tokens.push_back(p);
  v.special.assign(v.tokens.size(), 0);
  auto index = sc::TokenIndex::build(v).value();
  sc::LongestMatchEncoder encoder(index);
  sc::TokenizerView view{[&](std::string_view t) { return encoder.encode(t); },
                         &index->vocab().tokens};
  // The model wrote `{` then `"`; the automaton forces `name":`. Re-tokenizing `{"` + forced
  // merges the quote into `"name`, so the lone `"` is rolled back.
  std::vector<int32_t> out = {'{', '"'};
  auto plan = sc::plan_jump_forward(out, "name\":", view, 2);
  REQUIRE(plan.ok());
  std::vector<int32_t> whole = encoder.encode("{\"name\":");
  CHECK(plan->rollback == 1);
  std::vector<int32_t> result(out.begin(), out.end() - static_cast<long>(plan->rollback));
  result.insert(result.end(), plan->append.begin(), plan->append.end());
  CHECK(result == whole);
  // No look-back: only the forced text is tokenized.
  auto plain = sc::plan_jump_forward(out, "name\":", view, 0);
  REQUIRE(plain.ok());
  CHECK(plain->rollback == 0);
  CHECK(plain->append == encoder.encode("name\":"));
}

TEST_CASE("jump-forward in generation: same text, fewer model steps, state stays in sync") {
  auto index = real_index("llama3");
  if (!index) index = synthetic_index();
  sc::LongestMatchEncoder encoder(index);
  auto schema = sc::json_schema_to_regex(kPersonSchema);
  REQUIRE(schema.ok());
  auto c = sc::CompiledConstraint::from_regex(schema->regex, index);
  REQUIRE(c.ok());
  std::mt19937 rng(5);
  int64_t steps_with = 0, tokens_with = 0, appended = 0;
  for (int run = 0; run < 6; ++run) {
    GenerationResult g = generate_random(*c, rng, 10, /*use_jump=*/true, &encoder);
    REQUIRE(g.ended);
    CHECK((*c)->dfa().matches(g.text));
    // The output tokens re-derive the state: replaying them must be accepted.
    sc::ConstraintState replay(*c);
    for (int32_t t : g.tokens) REQUIRE(replay.accept_token(t).ok());
    CHECK(replay.can_end());
    steps_with += g.model_steps;
    tokens_with += static_cast<int64_t>(g.tokens.size());
    appended += g.jf.tokens_appended;
  }
  CHECK(appended > 0);
  CHECK(steps_with < tokens_with);
}

TEST_CASE("regex constraints: every sampled output full-matches in RE2") {
  auto index = real_index("llama3");
  if (!index) index = synthetic_index();
  sc::LongestMatchEncoder encoder(index);
  const char* patterns[] = {
      "\\+?[0-9]{1,3}-[0-9]{3}-[0-9]{4}",
      "[A-Z][a-z]{2,10}( [A-Z][a-z]{2,10}){0,2}",
      "(?:yes|no|maybe)\\.",
      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}",
      "The answer is (?:[1-9][0-9]*|0)\\.",
      "[a-z_][a-z0-9_]*\\(\\)",
      "(?:[^\"\\\\]|\\\\.){0,20}",
      "\\w+@\\w+\\.(?:com|org)",
      "[\\x{4e00}-\\x{4e2f}]{1,4}!",
  };
  std::mt19937 rng(11);
  for (const char* p : patterns) {
    RE2 re(p);
    REQUIRE(re.ok());
    auto c = sc::CompiledConstraint::from_regex(p, index);
    REQUIRE_MESSAGE(c.ok(), p);
    for (int run = 0; run < 8; ++run) {
      GenerationResult g =
          generate_random(*c, rng, static_cast<int>(rng() % 12), run % 2, &encoder);
      REQUIRE_MESSAGE(g.ended, std::string(p) << " stuck after '" << g.text << "'");
      CHECK_MESSAGE(RE2::FullMatch(g.text, re), p << " produced '" << g.text << "'");
    }
  }
}

TEST_CASE("select: choices as a constraint, scored by log-probs") {
  auto index = synthetic_index();
  std::vector<std::string> choices = {"red", "green", "blue", "green tea"};
  auto c = sc::CompiledConstraint::from_choices(choices, index);
  REQUIRE(c.ok());
  for (const auto& ch : choices) CHECK((*c)->dfa().matches(ch));
  CHECK_FALSE((*c)->dfa().matches("gree"));
  CHECK_FALSE(sc::CompiledConstraint::from_choices({}, index).ok());
  // Scores: sum vs mean of the caller's per-token log-probs.
  std::vector<std::vector<float>> lp = {{-1.0f}, {-0.5f, -0.5f}, {-3.0f}};
  auto total = sc::score_choices(lp, sc::ChoiceRule::kTotal);
  auto mean = sc::score_choices(lp, sc::ChoiceRule::kMean);
  REQUIRE((total.ok() && mean.ok()));
  CHECK(total->best == 0);  // -1.0 ties -1.0: the earlier wins
  CHECK(mean->best == 1);   // -0.5 per token
  CHECK_FALSE(sc::score_choices({}).ok());
  CHECK_FALSE(sc::score_choices({{}}).ok());
  CHECK_FALSE(sc::score_choices({{0.5f}}).ok());
}

TEST_CASE("tokenizer.json vocabulary loading") {
  // GPT-2's byte alphabet: the 256 single characters map to 256 distinct bytes.
  std::set<std::string> bytes;
  for (uint32_t cp = 0; cp < 0x200; ++cp) {
    std::string s;
    sc::append_utf8(cp, &s);
    auto b = sc::decode_byte_level_token(s);
    if (b.ok()) bytes.insert(*b);
  }
  CHECK(bytes.size() == 256);
  CHECK_FALSE(sc::decode_byte_level_token("\xe4\xb8\xad").ok());
  CHECK_FALSE(sc::parse_vocabulary_from_tokenizer_json("[1,2]").ok());
  CHECK_FALSE(
      sc::parse_vocabulary_from_tokenizer_json("{\"model\":{\"vocab\":{\"a\":\"x\"}}}").ok());
  auto tiny = sc::parse_vocabulary_from_tokenizer_json(
      R"({"model":{"vocab":{"a":0,"\u0120b":1}},"decoder":{"type":"ByteLevel"},
          "added_tokens":[{"id":2,"content":"<|endoftext|>","special":true}]})");
  REQUIRE(tiny.ok());
  CHECK(tiny->tokens[1] == " b");
  CHECK(tiny->special[2] == 1);
  CHECK(tiny->eos_ids == std::vector<int32_t>{2});
  auto llama = real_index("llama3");
  if (llama) {
    CHECK(llama->size() == 128256);
    CHECK_FALSE(llama->vocab().eos_ids.empty());
    // Every single byte is a token of its own (byte-level BPE), so any text can be encoded.
    std::set<std::string> singles;
    for (const std::string& t : llama->vocab().tokens) {
      if (t.size() == 1) singles.insert(t);
    }
    CHECK(singles.size() == 256);
  }
}

TEST_CASE("jump-forward with the real Llama 3 BPE tokenizer") {
  std::string path = std::string(STEMMA_ASSETS_DIR) + "/tokenizers/llama3/tokenizer.json";
  auto index = real_index("llama3");
  if (!index) {
    MESSAGE("skipped: no " << path);
    return;
  }
  auto spec = stemma::load_hf_tokenizer(path);
  REQUIRE(spec.ok());
  auto tok = stemma::Tokenizer::create(std::move(*spec));
  REQUIRE(tok.ok());
  stemma::EncodeOptions plain;
  plain.add_special = false;
  plain.parse_special = false;
  // The engine's tokenizer and our vocabulary agree on every token's bytes.
  for (int32_t id = 0; id < 128000; id += 97) {
    CHECK((*tok)->token_bytes(id) == index->vocab().tokens[id]);
  }
  sc::TokenizerView view{[&](std::string_view t) { return (*tok)->encode(t, plain); },
                         &index->vocab().tokens};
  auto schema = sc::json_schema_to_regex(kPersonSchema);
  REQUIRE(schema.ok());
  auto c = sc::CompiledConstraint::from_regex(schema->regex, index);
  REQUIRE(c.ok());
  sc::ConstraintState st(*c);
  std::vector<int32_t> out;
  sc::JumpForwardStats stats;
  auto plan = sc::jump_forward(&st, &out, view, &stats);
  REQUIRE(plan.ok());
  CHECK(plan->forced == "{\"name\":\"");
  CHECK(out == (*tok)->encode("{\"name\":\"", plain));
  // The model writes `Al` and `"`; the automaton then forces `,"age":`.
  for (int32_t id : (*tok)->encode("Al\"", plain)) {
    REQUIRE(st.accept_token(id).ok());
    out.push_back(id);
  }
  std::string before;
  for (int32_t id : out) before += index->vocab().tokens[id];
  plan = sc::jump_forward(&st, &out, view, &stats);
  REQUIRE(plan.ok());
  CHECK(plan->forced == ",\"age\":");
  std::string after;
  for (int32_t id : out) after += index->vocab().tokens[id];
  CHECK(after == before + ",\"age\":");
  // The tail was re-tokenized the way the tokenizer spells the joined text.
  std::vector<int32_t> tail_ids(out.end() - static_cast<long>(plan->append.size()), out.end());
  std::string tail_text;
  for (int32_t id : tail_ids) tail_text += index->vocab().tokens[id];
  CHECK(tail_ids == (*tok)->encode(tail_text, plain));
  sc::ConstraintState replay(*c);
  for (int32_t id : out) REQUIRE(replay.accept_token(id).ok());
  CHECK(replay.dfa_state() == st.dfa_state());
  CHECK(stats.jumps == 2);
}

TEST_CASE("vocabulary from a TokenizerSpec matches the tokenizer.json loader") {
  for (const char* name : {"llama3", "qwen2"}) {
    std::string path = std::string(STEMMA_ASSETS_DIR) + "/tokenizers/" + name + "/tokenizer.json";
    auto index = real_index(name);
    if (!index) continue;
    auto spec = stemma::load_hf_tokenizer(path);
    REQUIRE(spec.ok());
    auto v = sc::vocabulary_from_tokenizer_spec(*spec);
    REQUIRE(v.ok());
    REQUIRE(v->size() == index->size());
    int32_t differ = 0;
    for (int32_t id = 0; id < v->size(); ++id) {
      if (!v->special[id] && v->tokens[id] != index->vocab().tokens[id]) ++differ;
    }
    CHECK(differ == 0);
    REQUIRE(spec->eos_id >= 0);
    CHECK(std::find(v->eos_ids.begin(), v->eos_ids.end(), spec->eos_id) != v->eos_ids.end());
  }
  stemma::TokenizerSpec bad;
  bad.model = "unigram";
  CHECK_FALSE(sc::vocabulary_from_tokenizer_spec(bad).ok());
}
