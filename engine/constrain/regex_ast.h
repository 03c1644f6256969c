// A parsed regular expression over Unicode code points, kept as an arena of nodes.
// The parser accepts the RE2/ECMAScript subset that JSON Schema patterns and our own JSON
// Schema translation use; anything outside it (lookaround, backreferences, inner anchors) is
// reported by name instead of being matched wrongly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"

namespace stemma::constrain {

// A closed range of Unicode code points [lo, hi].
struct CodepointRange {
  uint32_t lo = 0;
  uint32_t hi = 0;
};

// Sorted, disjoint, non-adjacent code point ranges.
class CodepointSet {
 public:
  void add(uint32_t lo, uint32_t hi);
  void add_set(const CodepointSet& other);
  CodepointSet complement() const;  // within [0, 0x10FFFF]
  CodepointSet intersect(const CodepointSet& other) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<CodepointRange>& ranges() const { return ranges_; }

 private:
  void normalize();
  std::vector<CodepointRange> ranges_;
};

enum class RegexKind : uint8_t {
  kNothing,  // matches no string at all (an empty class, an unreachable branch)
  kEmpty,    // matches only the empty string
  kChars,    // one code point from `chars`
  kConcat,   // children in order
  kAlt,      // any one child
  kRepeat,   // child repeated [min, max] times; max < 0 means unbounded
  kRule,     // a call of grammar rule `min` (written (?&k)): only in grammar rule bodies
};

struct RegexNode {
  RegexKind kind = RegexKind::kEmpty;
  CodepointSet chars;
  std::vector<int32_t> children;
  int32_t min = 0;
  int32_t max = 0;
};

struct RegexAst {
  std::vector<RegexNode> nodes;
  int32_t root = -1;
};

struct RegexParseOptions {
  // When set, every character class (and `.`) is intersected with this set; used for JSON
  // Schema `pattern`, whose matches must also be unescaped JSON string characters.
  const CodepointSet* restrict_chars = nullptr;
  // ECMAScript patterns search anywhere unless anchored; when set, a pattern without `^`/`$`
  // gets `restrict_chars*` on the unanchored side(s).
  bool search_semantics = false;
  // Grammar rule bodies: `(?&k)` (PCRE's subroutine-call syntax) calls rule k, 0 <= k <
  // num_rules. Off (the default), `(?&` is refused like other group flags.
  int32_t num_rules = 0;
  // Groups may nest at most this deep (every walk of the AST recurses per level, so deeper
  // input is refused before it is built). User patterns get the default; the JSON Schema
  // translator, whose own nesting follows the schema's (itself bounded), passes more.
  int32_t max_group_depth = 100;
};

// The group depth allowed in regexes the JSON Schema translator and grammar rules generate
// (their nesting follows a schema's, which json_nesting.h bounds; user patterns inside them
// were parsed with the default first).
inline constexpr int32_t kGeneratedRegexMaxDepth = 2048;

// Parses `pattern`. Full-match semantics: a leading `^` and trailing `$` are accepted and mean
// nothing more (or, with search_semantics, decide where the match may float).
Result<RegexAst> parse_regex(std::string_view pattern, const RegexParseOptions& options = {});

// Escapes `text` so that it matches itself literally in our (RE2-compatible) syntax.
std::string regex_escape(std::string_view text);

}  // namespace stemma::constrain

namespace stemma::constrain {

// Prints an AST back as a regex in our RE2-compatible syntax (classes as \x{...} ranges).
std::string print_regex(const RegexAst& ast);

}  // namespace stemma::constrain
