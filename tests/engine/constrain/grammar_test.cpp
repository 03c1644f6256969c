// Grammars (rules with calls) and the pushdown executor, checked against independent
// references: a stack-based recognizer of nested brackets, a brute-force language of an
// ambiguous grammar, and the inlined regex of a grammar without recursion.
#include <doctest/doctest.h>

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
