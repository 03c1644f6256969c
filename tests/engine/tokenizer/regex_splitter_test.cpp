#include "engine/tokenizer/regex_splitter.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace stemma {
namespace {

std::vector<std::string> split(const std::string& name, const std::string& text) {
  auto s = RegexSplitter::create(pre_tokenizer_regex_for(name));
  REQUIRE(s.ok());
  std::vector<std::string_view> pieces;
  (*s)->split(text, &pieces);
  return {pieces.begin(), pieces.end()};
}

}  // namespace

TEST_CASE("pre-tokenizer: the \\s+(?!\\S) rewrite leaves the last space to the next word") {
  // Expected pieces are what node's RegExp (with real lookahead, /u) gives for the same patterns.
  CHECK(split("gpt2", "a   b") == std::vector<std::string>{"a", "  ", " b"});
  CHECK(split("gpt2", "a b  ") == std::vector<std::string>{"a", " b", "  "});
  CHECK(split("llama-bpe", "x\n\n  y") == std::vector<std::string>{"x", "\n\n", " ", " y"});
  // Unicode white space counts as \s (re2's own \s would not).
  CHECK(split("gpt2", "a\u3000\u3000b") == std::vector<std::string>{"a", "\u3000", "\u3000", "b"});
}

TEST_CASE("pre-tokenizer: lookaround other than the known idiom is refused by name") {
  auto s = RegexSplitter::create("a(?=b)|c");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("lookaround `(?=`") != std::string::npos);
  auto bad = RegexSplitter::create("[a-");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("does not compile") != std::string::npos);
}

}  // namespace stemma
