// The byte DFA must accept exactly what RE2 full-matches, for random regexes and strings.
#include <doctest/doctest.h>
#include <re2/re2.h>

#include <random>
#include <string>
#include <vector>

#include "engine/constrain/dfa.h"
#include "engine/constrain/utf8.h"

namespace sc = stemma::constrain;

namespace {

const std::vector<std::string> kAlphabet = {
    "a", "b", "c", "0", "7", "-", " ", "\n", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\""};

std::string random_atom(std::mt19937& rng, int depth);

std::string random_regex(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> len(1, 4);
  std::string out;
  int n = len(rng);
  for (int i = 0; i < n; ++i) {
    out += random_atom(rng, depth);
    switch (rng() % 8) {
      case 0:
        out += "*";
        break;
      case 1:
        out += "+";
        break;
      case 2:
        out += "?";
        break;
      case 3: {
        int a = static_cast<int>(rng() % 3), b = a + static_cast<int>(rng() % 3);
        out += "{" + std::to_string(a) + "," + std::to_string(b) + "}";
        break;
      }
      case 4:
        out += "{" + std::to_string(rng() % 3) + "}";
        break;
      default:
        break;
    }
  }
  if (depth < 2 && rng() % 4 == 0) out += "|" + random_regex(rng, depth + 1);
  return out;
}

std::string random_atom(std::mt19937& rng, int depth) {
  switch (rng() % 9) {
    case 0:
      return ".";
    case 1:
      return "[a-c]";
    case 2:
      return "[^a\\n]";
    case 3:
      return "\\d";
    case 4:
      return "[\\x{e0}-\\x{4e2d}]";
    case 5:
      return "\\S";
    case 6:
      if (depth < 2) return "(?:" + random_regex(rng, depth + 1) + ")";
      return "b";
    case 7:
      return "[^\\x00-\\x{10FFFF}]";
    default: {
      std::string lit = kAlphabet[rng() % kAlphabet.size()];
      if (lit == "\n") return "\\n";
      return lit == "-" ? "\\-" : lit;
    }
  }
}

std::string random_string(std::mt19937& rng) {
  std::string s;
  int n = static_cast<int>(rng() % 7);
  for (int i = 0; i < n; ++i) s += kAlphabet[rng() % kAlphabet.size()];
  return s;
}

// A random accepted string, by walking live transitions (every live state can still accept).
std::string sample_from_dfa(const sc::Dfa& dfa, std::mt19937& rng) {
  std::string s;
  int32_t state = dfa.start;
  for (int steps = 0; steps < 64; ++steps) {
    if (dfa.is_accepting(state) && rng() % 3 == 0) break;
    std::vector<int> bytes;
    for (int b = 0; b < 256; ++b) {
      if (dfa.step(state, static_cast<uint8_t>(b)) >= 0) bytes.push_back(b);
    }
    if (bytes.empty()) break;
    int b = bytes[rng() % bytes.size()];
    s.push_back(static_cast<char>(b));
    state = dfa.step(state, static_cast<uint8_t>(b));
  }
  return s;
}

}  // namespace

TEST_CASE("random regexes: DFA agrees with RE2 full match") {
  std::mt19937 rng(1234);
  int checked = 0, positives = 0;
  for (int r = 0; r < 400; ++r) {
    std::string pattern = random_regex(rng, 0);
    RE2 re(pattern);
    REQUIRE_MESSAGE(re.ok(), pattern);
    auto dfa = sc::compile_regex(pattern);
    REQUIRE_MESSAGE(dfa.ok(), pattern << ": " << dfa.status().to_string());
    for (int i = 0; i < 40; ++i) {
      std::string s = random_string(rng);
      bool ours = dfa->matches(s);
      CHECK_MESSAGE(ours == RE2::FullMatch(s, re), "pattern /" << pattern << "/ on '" << s << "'");
      positives += ours;
      ++checked;
    }
    if (!dfa->empty_language()) {
      for (int i = 0; i < 10; ++i) {
        std::string s = sample_from_dfa(*dfa, rng);
        if (!dfa->matches(s)) continue;  // the walk stopped before an accepting state
        std::vector<uint32_t> cps;
        CHECK_MESSAGE(sc::decode_utf8(s, &cps), "sampled invalid UTF-8 from /" << pattern << "/");
        CHECK_MESSAGE(RE2::FullMatch(s, re), "pattern /" << pattern << "/ sampled '" << s << "'");
        ++positives;
      }
    }
  }
  CHECK(checked == 400 * 40);
  CHECK(positives > 2000);
}

TEST_CASE("UTF-8 classes cover every code point width exactly") {
  auto dfa = sc::compile_regex("[^\"\\\\\\x00-\\x1f]*");
  REQUIRE(dfa.ok());
  RE2 re("[^\"\\\\\\x00-\\x1f]*");
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    uint32_t cp = rng() % 0x110000;
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s;
    sc::append_utf8(cp, &s);
    CHECK_MESSAGE(dfa->matches(s) == RE2::FullMatch(s, re), "U+" << cp);
  }
  CHECK_FALSE(dfa->matches("\xed\xa0\x80"));  // an encoded surrogate is not UTF-8
  CHECK_FALSE(dfa->matches("\xc0\xaf"));      // overlong
}

TEST_CASE("unsupported regex features are named") {
  for (const char* p : {"a(?=b)", "\\bword", "(a)\\1", "\\p{L}", "a^b"}) {
    auto dfa = sc::compile_regex(p);
    REQUIRE_FALSE(dfa.ok());
    CHECK(dfa.status().code() == stemma::StatusCode::kUnsupported);
  }
  CHECK_FALSE(sc::compile_regex("(ab").ok());
  CHECK_FALSE(sc::compile_regex("a{3,1}").ok());
  CHECK_FALSE(sc::compile_regex("\xff").ok());
}

TEST_CASE("minimisation merges equivalent states") {
  auto a = sc::compile_regex("(?:ab|cb)(?:ab|cb)");
  REQUIRE(a.ok());
  CHECK(a->num_states() == 5);  // start, after a|c, after first pair, after a|c, accept
  auto empty = sc::compile_regex("a[^\\x00-\\x{10FFFF}]|b");
  REQUIRE(empty.ok());
  CHECK(empty->matches("b"));
  CHECK_FALSE(empty->matches("a"));
  CHECK(empty->out_degree(empty->start, nullptr) == 1);  // the dead 'a' branch is pruned
}

TEST_CASE("disjointness by product automaton") {
  auto a = sc::compile_regex("[0-9]+");
  auto b = sc::compile_regex("[a-z]+");
  auto c = sc::compile_regex("1[a-z0-9]*");
  REQUIRE((a.ok() && b.ok() && c.ok()));
  CHECK(sc::dfa_languages_disjoint(*a, *b));
  CHECK_FALSE(sc::dfa_languages_disjoint(*a, *c));
}
