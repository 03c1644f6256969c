// Regex splitting for pre-tokenization: the regexes of GPT-2, Llama 3 and Qwen2 (or any HF
// "Split" regex), run through re2.
//
// re2 has no lookahead and its \s is ASCII-only, so patterns are translated: \s becomes the
// Unicode White_Space set (as HF's Oniguruma has it), and the idiom `\s+(?!\S)|\s+` becomes a
// marked `(\s+)` whose match gives back its last character when a non-space follows (exactly
// what the lookahead did). Any other lookaround is refused by name.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"

namespace re2 {
class RE2;
}

namespace stemma {

// The regex HF/llama.cpp use for a pre-tokenizer name ("gpt2", "llama-bpe", "qwen2", ...), or
// an empty string when we know no such name.
std::string pre_tokenizer_regex_for(std::string_view name);

class RegexSplitter {
 public:
  static Result<std::unique_ptr<RegexSplitter>> create(const std::string& pattern);
  ~RegexSplitter();

  // Appends the pieces of `text` (matches and the gaps between them, in order, none empty).
  void split(std::string_view text, std::vector<std::string_view>* pieces) const;

  // HF's find_matches: [begin, end) segments covering `text` in order, each a match of the
  // pattern or a gap between matches. Empty matches give empty segments (as Oniguruma's
  // find_iter does; the search then moves on one character).
  struct Segment {
    size_t begin, end;
    bool match;
  };
  void find_matches(std::string_view text, std::vector<Segment>* out) const;

 private:
  RegexSplitter() = default;
  std::unique_ptr<re2::RE2> re_;
  // The pattern's alternatives before the rewritten `\s+(?!\S)|\s+` idiom, anchored: an
  // all-whitespace match came from the idiom exactly when these do not match there (re2 is
  // leftmost-first, like the original engines). Null when the pattern has no idiom.
  std::unique_ptr<re2::RE2> prefix_re_;
};

// The pattern translated for re2 (exposed for tests). Sets *space_group when the
// `\s+(?!\S)|\s+` idiom was rewritten into capture group 1.
Result<std::string> translate_regex_for_re2(const std::string& pattern, bool* space_group);

// The translated pattern without its trailing `|([...]+)` idiom group (for RegexSplitter).
std::string strip_space_group(const std::string& translated);

// Every non-overlapping match of `re` in `text` replaced by `content` taken literally (HF's
// Replace does not expand $1 or \1). Empty matches replace nothing.
std::string replace_regex_matches(std::string_view text, const re2::RE2& re,
                                  std::string_view content);

}  // namespace stemma
