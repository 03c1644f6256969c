// Grammars (rules with calls) and the pushdown executor, checked against independent
// references: a stack-based recognizer of nested brackets, a brute-force language of an
// ambiguous grammar, and the inlined regex of a grammar without recursion. Then grammar token
// masks against a direct byte-by-byte simulation of every token.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "engine/constrain/grammar.h"
#include "engine/constrain/pushdown.h"
#include "test_support.h"

namespace sc = stemma::constrain;
using namespace stemma::constrain::testing;

namespace {

sc::Grammar compile(const std::string& root, std::vector<std::string> rules,
                    sc::GrammarOptions options = {}) {
  sc::GrammarSource src;
  src.root = root;
  src.rules = std::move(rules);
  auto g = sc::compile_grammar(src, options);
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  return std::move(*g);
}

// Nested () and [] with letters a-c between: the reference is the classic stack scan.
struct BracketReference {
  bool viable = true;  // the prefix so far can still be completed
  std::string stack;
  void feed(char c) {
    if (!viable) return;
    if (c == '(' || c == '[') {
      stack.push_back(c);
    } else if (c == ')' || c == ']') {
      const char open = c == ')' ? '(' : '[';
      if (stack.empty() || stack.back() != open) {
        viable = false;
      } else {
        stack.pop_back();
      }
    } else if (c < 'a' || c > 'c') {
      viable = false;
    }
  }
  bool complete() const { return viable && stack.empty(); }
  std::set<char> next() const {
    std::set<char> out{'a', 'b', 'c', '(', '['};
    if (!stack.empty()) out.insert(stack.back() == '(' ? ')' : ']');
    return out;
  }
};

std::set<char> allowed(sc::PushdownMatcher& m) {
  std::set<char> out;
  sc::ByteSet b = m.allowed_bytes();
  for (int c = 0; c < 256; ++c) {
    if (b.test(static_cast<uint8_t>(c))) out.insert(static_cast<char>(c));
  }
  return out;
}

}  // namespace

TEST_CASE("pushdown: nested brackets agree with a stack scan, byte by byte") {
  const sc::Grammar g = compile("(?&0)", {R"((?:\((?&0)\)|\[(?&0)\]|[a-c])*)"});
  std::mt19937 rng(17);
  const std::string alphabet = "()[]abcx";
  int complete = 0, deep = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    sc::PushdownMatcher m(&g);
    BracketReference ref;
    const int len = static_cast<int>(rng() % 40);
    // Mostly well-formed walks (picked from the reference's next bytes), some random bytes.
    for (int i = 0; i < len && ref.viable; ++i) {
      REQUIRE(allowed(m) == ref.next());
      REQUIRE(m.can_end() == ref.complete());
      std::set<char> next = ref.next();
      char c = rng() % 8 == 0 ? alphabet[rng() % alphabet.size()]
                              : *std::next(next.begin(), static_cast<long>(rng() % next.size()));
      ref.feed(c);
      const bool ok = m.accept_bytes(std::string(1, c)).ok();
      REQUIRE(ok == ref.viable);
      deep = std::max(deep, static_cast<int>(ref.stack.size()));
    }
    if (ref.viable) {
      CHECK(m.can_end() == ref.complete());
      complete += ref.complete();
    }
  }
  CHECK(complete > 50);
  CHECK(deep >= 10);  // nesting well past any unrolling depth
}

TEST_CASE("pushdown: an ambiguous grammar (two calls that start alike) matches its language") {
  // root: a^n b^n x (n >= 1) or a^i b^j y (i, j >= 1); both branches start with calls on 'a'.
  const sc::Grammar g = compile("(?&0)x|(?&1)y", {"a(?&0)?b", "a+b+"});
  std::set<std::string> language;  // every word up to 24 bytes
  for (int n = 1; 2 * n + 1 <= 24; ++n)
    language.insert(std::string(n, 'a') + std::string(n, 'b') + "x");
  for (int i = 1; i <= 22; ++i) {
    for (int j = 1; i + j + 1 <= 24; ++j) {
      language.insert(std::string(i, 'a') + std::string(j, 'b') + "y");
    }
  }
  std::mt19937 rng(5);
  int accepted = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::string w;
    const int len = 1 + static_cast<int>(rng() % 10);
    for (int i = 0; i < len; ++i) w.push_back("aabbxy"[rng() % 6]);
    sc::PushdownMatcher m(&g);
    bool alive = true;
    for (size_t i = 0; i < w.size() && alive; ++i) {
      // The prefix w[0..i] is viable iff some word extends it.
      const std::string prefix = w.substr(0, i + 1);
      bool viable = false;
      for (const std::string& x : language)
        viable = viable || x.compare(0, prefix.size(), prefix) == 0;
      alive = m.accept_bytes(std::string(1, w[i])).ok();
      REQUIRE_MESSAGE(alive == viable, prefix);
    }
    if (alive) {
      CHECK(m.can_end() == (language.count(w) == 1));
      accepted += m.can_end();
    }
    CHECK(m.num_stacks() <= 2);
  }
  CHECK(accepted > 20);
}

TEST_CASE("pushdown: a grammar without recursion accepts what its inlined regex accepts") {
  const std::string num = "-?[0-9]+", str = R"("[a-z]*")";
  const sc::Grammar g = compile(R"(\[(?:(?&0)|(?&1))(?:,(?:(?&0)|(?&1)))*\])", {num, str});
  auto dfa =
      sc::compile_regex("\\[(?:" + num + "|" + str + ")(?:,(?:" + num + "|" + str + "))*\\]");
  REQUIRE(dfa.ok());
  std::mt19937 rng(23);
  const std::string alphabet = "[]0123-,\"az";
  for (int trial = 0; trial < 3000; ++trial) {
    sc::PushdownMatcher m(&g);
    int32_t s = dfa->start;
    const int len = 1 + static_cast<int>(rng() % 16);
    for (int i = 0; i < len; ++i) {
      const char c = i == 0 ? '[' : alphabet[rng() % alphabet.size()];
      s = dfa->step(s, static_cast<uint8_t>(c));
      const bool ok = m.accept_bytes(std::string(1, c)).ok();
      REQUIRE(ok == (s != sc::Dfa::kDead));
      if (!ok) break;
      REQUIRE(m.can_end() == dfa->is_accepting(s));
    }
  }
}

TEST_CASE("pushdown: forced bytes are exact through pops; rollback restores the position") {
  const sc::Grammar g = compile("(?&0)", {R"(\{"a":(?:(?&0)|1|22)\})"});
  sc::PushdownMatcher m(&g);
  REQUIRE(m.accept_bytes(R"({"a":{"a":{"a":2)").ok());
  const std::string forced = m.forced_bytes(100);
  // The reference: while exactly one of the 256 bytes can be read and the text cannot end,
  // that byte is forced (checked by probing each byte, not by the executor's byte sets).
  std::string expect;
  sc::PushdownMatcher probe = m;
  while (!probe.can_end()) {
    int only = -1, count = 0;
    for (int b = 0; b < 256; ++b) {
      if (probe.probe(std::string(1, static_cast<char>(b)))) only = b, ++count;
    }
    if (count != 1) break;
    expect.push_back(static_cast<char>(only));
    REQUIRE(probe.accept_bytes(std::string(1, static_cast<char>(only))).ok());
  }
  CHECK(forced == expect);
  CHECK(forced.size() >= 4);  // the rest of "22", then one '}' per open frame
  REQUIRE(m.accept_bytes(forced).ok());
  CHECK(m.can_end());
  CHECK(m.allowed_bytes().count() == 0);
  // Roll back the forced run and the last token: same allowed bytes as before them.
  REQUIRE(m.rollback(1).ok());
  CHECK(m.forced_bytes(100) == forced);
  REQUIRE(m.rollback(1).ok());
  CHECK(m.num_steps() == 0);
  CHECK(allowed(m) == std::set<char>{'{'});
  CHECK_FALSE(m.rollback(1).ok());
}

TEST_CASE("pushdown: the stack limit is an error naming max_stack_depth, not a silent cut") {
  sc::GrammarOptions o;
  o.max_stack_depth = 6;  // the root frame and 5 nested rule frames
  const sc::Grammar g = compile("(?&0)", {R"(\[(?&0)?\])"}, o);
  sc::PushdownMatcher m(&g);
  int opened = 0;
  stemma::Status s;
  while ((s = m.accept_bytes("[")).ok()) ++opened;
  CHECK(opened == 5);
  CHECK(s.code() == stemma::StatusCode::kResourceExhausted);
  CHECK(s.message().find("max_stack_depth") != std::string::npos);
  CHECK(m.depth() == 6);
  CHECK(m.accept_bytes(std::string(static_cast<size_t>(opened), ']')).ok());
  CHECK(m.can_end());
}

TEST_CASE("grammar compile: left recursion refused, rules that match nothing cut, errors named") {
  sc::GrammarSource left;
  left.root = "(?&0)";
  left.rules = {"(?&0)a|b"};
  left.names = {"expr"};
  auto l = sc::compile_grammar(left);
  REQUIRE_FALSE(l.ok());
  CHECK(l.status().code() == stemma::StatusCode::kUnsupported);
  CHECK(l.status().message().find("'expr'") != std::string::npos);

  // Rule 0 never ends (it can only call itself after 'a'): the start keeps only "x".
  const sc::Grammar cut = compile("(?&0)|x", {"a(?&0)"});
  sc::PushdownMatcher m(&cut);
  CHECK(allowed(m) == std::set<char>{'x'});

  sc::GrammarSource empty;
  empty.root = "(?&0)";
  empty.rules = {"a(?&0)"};
  CHECK_FALSE(sc::compile_grammar(empty).ok());
  sc::GrammarSource bad;
  bad.root = "(?&3)";
  bad.rules = {"a"};
  auto b = sc::compile_grammar(bad);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("(?&3)") != std::string::npos);
  // Outside grammars (?& stays refused like other group flags.
  CHECK_FALSE(sc::compile_regex("(?&0)").ok());
}

TEST_CASE("grammar: bytes_to_end is the shortest completion (calls weighted by their rule)") {
  const sc::Grammar g = compile("(?&0)", {R"(\{"a":(?:(?&0)|1|22)\})"});
  sc::PushdownMatcher m(&g);
  // Brute-force reference: breadth-first over single bytes until the text may end.
  auto shortest = [](sc::PushdownMatcher start) {
    std::vector<sc::PushdownMatcher> level{start};
    for (int64_t d = 0; d < 64; ++d) {
      std::vector<sc::PushdownMatcher> next;
      for (sc::PushdownMatcher& x : level) {
        if (x.can_end()) return d;
        sc::ByteSet b = x.allowed_bytes();
        for (int c = 0; c < 256; ++c) {
          if (!b.test(static_cast<uint8_t>(c))) continue;
          sc::PushdownMatcher y = x;
          REQUIRE(y.accept_bytes(std::string(1, static_cast<char>(c))).ok());
          next.push_back(std::move(y));
        }
      }
      level = std::move(next);
    }
    return int64_t{-1};
  };
  for (const char* prefix : {"", "{", R"({"a":{"a":)", R"({"a":{"a":2)", R"({"a":{"a":1})"}) {
    sc::PushdownMatcher x = m;
    REQUIRE(x.accept_bytes(prefix).ok());
    CHECK_MESSAGE(x.bytes_to_end() == shortest(x), prefix);
  }
}

namespace {

// The direct check of one token: its bytes fed to the matcher one at a time (then undone).
bool direct_allows(sc::PushdownMatcher& m, const std::string& bytes) {
  size_t n = 0;
  while (n < bytes.size() && m.accept_bytes(std::string_view(&bytes[n], 1)).ok()) ++n;
  REQUIRE(m.rollback(n).ok());
  return n == bytes.size() && !bytes.empty();
}

// Compares every bit of the state's mask with the direct check; returns mismatches.
int32_t mask_mismatches(const sc::ConstraintState& st, sc::PushdownMatcher& m,
                        const std::vector<int32_t>* only = nullptr) {
  const sc::TokenMask* mask = st.current_mask();
  REQUIRE(mask);
  const sc::TokenIndex& index = st.constraint().index();
  const sc::Vocabulary& v = index.vocab();
  int32_t bad = 0;
  auto check = [&](int32_t id) {
    bool expect;
    if (index.is_eos(id)) {
      expect = m.can_end();
    } else if (v.special[id]) {
      expect = false;
    } else {
      expect = direct_allows(m, v.tokens[id]);
    }
    if (mask->test(id) != expect) ++bad;
  };
  if (only) {
    for (int32_t id : *only) check(id);
  } else {
    for (int32_t id = 0; id < v.size(); ++id) check(id);
  }
  return bad;
}

std::vector<std::shared_ptr<const sc::CompiledConstraint>> recursive_constraints(
    std::shared_ptr<const sc::TokenIndex> index) {
  std::vector<std::shared_ptr<const sc::CompiledConstraint>> out;
  for (const std::string& f : all_schema_files()) {
    auto c = sc::CompiledConstraint::from_json_schema(read_file(fixtures_dir() + "/schemas/" + f),
                                                      index);
    REQUIRE_MESSAGE(c.ok(), f << ": " << c.status().to_string());
    if ((*c)->is_grammar()) out.push_back(*c);
  }
  // Hand-made grammars: nested brackets (nullable rule), an ambiguous start, and a rule that
  // may end inside a number (tokens like "7]," end it partway: context-dependent).
  for (auto src : {sc::GrammarSource{"(?&0)", {R"((?:\((?&0)\)|\[(?&0)\]|[a-c])*)"}, {}},
                   sc::GrammarSource{"(?&0)x|(?&1)y", {"a(?&0)?b", "a+b+"}, {}},
                   sc::GrammarSource{"(?&0)", {R"([0-9]+|\[(?:(?&0)(?:,(?&0))*)?\])"}, {}}}) {
    auto c = sc::CompiledConstraint::from_grammar(src, index);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    out.push_back(*c);
  }
  return out;
}

}  // namespace

TEST_CASE("grammar masks equal a direct byte-by-byte check of every token (synthetic vocab)") {
  auto index = synthetic_index();
  std::mt19937 rng(41);
  int64_t positions = 0;
  for (const auto& c : recursive_constraints(index)) {
    for (int run = 0; run < 3; ++run) {
      sc::ConstraintState st(c);
      sc::PushdownMatcher m(c->grammar());
      for (int step = 0; step < 120 && !st.is_finished(); ++step) {
        REQUIRE(mask_mismatches(st, m) == 0);
        ++positions;
        // Prefer tokens that go deeper for a while, then any allowed token.
        std::vector<int32_t> allowed;
        const sc::TokenMask* mask = st.current_mask();
        for (int32_t id = 0; id < index->size(); ++id) {
          if (mask->test(id) && !index->is_eos(id)) allowed.push_back(id);
        }
        if (allowed.empty()) break;
        int32_t pick = allowed[rng() % allowed.size()];
        if (step < 60) {
          int32_t best = -1;
          for (int k = 0; k < 8; ++k) {
            const int32_t t = allowed[rng() % allowed.size()];
            REQUIRE(st.accept_token(t).ok());
            if (st.stack_depth() > best) best = st.stack_depth(), pick = t;
            REQUIRE(st.rollback(1).ok());
          }
        }
        REQUIRE(st.accept_token(pick).ok());
        REQUIRE(m.accept_bytes(index->vocab().tokens[pick]).ok());
      }
    }
  }
  CHECK(positions > 5000);
}

TEST_CASE("grammar masks equal a direct check on the Llama 3 vocabulary (deep positions)") {
  auto index = real_index("llama3");
  if (!index) {
    MESSAGE("skipped: .assets/tokenizers/llama3/tokenizer.json is absent");
    return;
  }
  sc::LongestMatchEncoder encoder(index);
  std::ifstream in(fixtures_dir() + "/deep_instances.jsonl");
  std::string line;
  std::map<std::string, std::shared_ptr<const sc::CompiledConstraint>> compiled;
  std::mt19937 rng(7);
  int checked = 0, instance = 0;
  while (std::getline(in, line)) {
    if (instance++ % 9 != 0) continue;  // a spread of schemas and depths
    auto j = nlohmann::json::parse(line);
    const std::string file = j["schema"], text = j["text"];
    auto& c = compiled[file];
    if (!c) {
      c = sc::CompiledConstraint::from_json_schema(read_file(fixtures_dir() + "/schemas/" + file),
                                                   index)
              .value();
    }
    sc::ConstraintState st(c);
    sc::PushdownMatcher m(c->grammar());
    const std::vector<int32_t> ids = encoder.encode(text);
    for (size_t t = 0; t < ids.size(); ++t) {
      if (t % 11 == 3 || t + 1 == ids.size()) {
        // Every token at some positions; a random tenth of them elsewhere (still exact).
        REQUIRE_MESSAGE(mask_mismatches(st, m) == 0, file << " at token " << t);
        ++checked;
      } else if (t % 11 == 7) {
        std::vector<int32_t> sample;
        for (int k = 0; k < 4000; ++k)
          sample.push_back(static_cast<int32_t>(rng() % index->size()));
        REQUIRE_MESSAGE(mask_mismatches(st, m, &sample) == 0, file << " at token " << t);
      }
      REQUIRE(st.accept_token(ids[t]).ok());
      REQUIRE(m.accept_bytes(index->vocab().tokens[ids[t]]).ok());
    }
    CHECK(st.can_end());
  }
  CHECK(checked >= 20);
}

TEST_CASE("ConstraintState over a grammar: EOS, rollback, jump-forward through pops") {
  auto index = synthetic_index();
  auto c =
      sc::CompiledConstraint::from_grammar({"(?&0)", {R"(\{"a":(?:(?&0)|1|22)\})"}, {}}, index);
  REQUIRE(c.ok());
  const int32_t eos = index->vocab().eos_ids[0];
  sc::ConstraintState st(*c);
  CHECK(st.dfa_state() == -1);
  CHECK_FALSE(st.accept_token(eos).ok());
  CHECK_FALSE(st.accept_token(index->size() - 2).ok());  // the special token
  CHECK(st.jump_forward_bytes() == "{\"a\":");
  sc::LongestMatchEncoder encoder(index);
  for (int32_t t : encoder.encode(R"({"a":{"a":{"a":2)")) REQUIRE(st.accept_token(t).ok());
  CHECK(st.stack_depth() == 4);
  const std::string forced = st.jump_forward_bytes();
  CHECK(forced == "2}}}");  // derived and checked by the probing reference above
  const size_t before = st.num_tokens();
  for (int32_t t : encoder.encode(forced)) REQUIRE(st.accept_token(t).ok());
  CHECK(st.can_end());
  CHECK(st.is_finished());
  CHECK(st.bytes_to_end() == 0);
  sc::TokenMask mask;
  st.allowed_tokens(&mask);
  CHECK(mask.count() == 1);
  CHECK(mask.test(eos));
  REQUIRE(st.accept_token(eos).ok());
  CHECK(st.current_mask() == nullptr);
  REQUIRE(st.rollback(st.num_tokens() - before + 0).ok());
  CHECK(st.num_tokens() == before);
  CHECK(st.jump_forward_bytes() == forced);
  CHECK(st.bytes_to_end() == static_cast<int64_t>(forced.size()));
  CHECK_FALSE(st.can_end());
}

TEST_CASE("jump-forward in generation over grammars: replay accepted, fewer model steps") {
  auto index = real_index("llama3");
  if (!index) index = synthetic_index();
  sc::LongestMatchEncoder encoder(index);
  std::mt19937 rng(9);
  int64_t steps = 0, tokens = 0;
  int runs = 0;
  for (const auto& c : recursive_constraints(index)) {
    if (runs++ % 3 != 0) continue;
    GenerationResult g = generate_random(c, rng, 30, /*use_jump=*/true, &encoder, /*dive=*/20);
    REQUIRE(g.ended);
    CHECK(constraint_matches(*c, g.text));
    sc::ConstraintState replay(c);
    for (int32_t t : g.tokens) REQUIRE(replay.accept_token(t).ok());
    CHECK(replay.can_end());
    steps += g.model_steps;
    tokens += static_cast<int64_t>(g.tokens.size());
  }
  CHECK(steps < tokens);
}
