#include "engine/constrain/regex_ast.h"

#include <algorithm>
#include <cstdio>

#include "engine/constrain/utf8.h"

namespace stemma::constrain {

constexpr uint32_t kMaxCodepoint = 0x10FFFF;
constexpr int32_t kMaxRepeat = 1000;  // RE2's limit too; keeps automata bounded
// Every walk of a RegexAst (NFA construction, printing) recurses per level, so the parser
// bounds the levels before it builds them: groups nested at most
// RegexParseOptions::max_group_depth deep, and at most this many quantifiers stacked on one
// atom (a{2}{3}...).
constexpr int32_t kMaxStackedQuantifiers = 4;

void CodepointSet::add(uint32_t lo, uint32_t hi) {
  if (lo > hi) return;
  ranges_.push_back({lo, std::min(hi, kMaxCodepoint)});
  normalize();
}

void CodepointSet::add_set(const CodepointSet& other) {
  ranges_.insert(ranges_.end(), other.ranges_.begin(), other.ranges_.end());
  normalize();
}

void CodepointSet::normalize() {
  std::sort(ranges_.begin(), ranges_.end(),
            [](const CodepointRange& a, const CodepointRange& b) { return a.lo < b.lo; });
  std::vector<CodepointRange> merged;
  for (const CodepointRange& r : ranges_) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
}

CodepointSet CodepointSet::complement() const {
  CodepointSet out;
  uint32_t next = 0;
  for (const CodepointRange& r : ranges_) {
    if (r.lo > next) out.ranges_.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodepoint) out.ranges_.push_back({next, kMaxCodepoint});
  return out;
}

CodepointSet CodepointSet::intersect(const CodepointSet& other) const {
  CodepointSet out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    uint32_t lo = std::max(ranges_[i].lo, other.ranges_[j].lo);
    uint32_t hi = std::min(ranges_[i].hi, other.ranges_[j].hi);
    if (lo <= hi) out.ranges_.push_back({lo, hi});
    if (ranges_[i].hi < other.ranges_[j].hi) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else if (std::string_view("\\^$.|?*+()[]{}-/\"").find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

class Parser {
 public:
  Parser(std::vector<uint32_t> cps, const RegexParseOptions& options)
      : cps_(std::move(cps)), options_(options) {}

  Result<RegexAst> parse() {
    bool anchored_start = false, anchored_end = false;
    size_t end = cps_.size();
    if (pos_ < end && cps_[pos_] == '^') {
      anchored_start = true;
      ++pos_;
    }
    if (end > pos_ && cps_[end - 1] == '$' &&
        !(end >= 2 && cps_[end - 2] == '\\' && !escaped_backslash_before(end - 2))) {
      anchored_end = true;
      cps_.pop_back();
    }
    auto body = parse_alt();
    if (!body.ok()) return body.status();
    if (pos_ != cps_.size()) return error("unbalanced ')'");
    int32_t root = *body;
    if (options_.search_semantics) {
      CodepointSet any = any_char(/*dot=*/false);
      std::vector<int32_t> parts;
      if (!anchored_start) parts.push_back(repeat(chars(any), 0, -1));
      parts.push_back(root);
      if (!anchored_end) parts.push_back(repeat(chars(any), 0, -1));
      root = concat(std::move(parts));
    }
    ast_.root = root;
    return std::move(ast_);
  }

 private:
  bool escaped_backslash_before(size_t i) const {
    // true when cps_[i] == '\\' is itself escaped by an odd run of backslashes before it
    size_t run = 0;
    while (i > run && cps_[i - run - 1] == '\\') ++run;
    return run % 2 == 1;
  }

  Status error(const std::string& what) const {
    return InvalidArgument("regex: " + what + " at offset " + std::to_string(pos_));
  }
  Status unsupported(const std::string& what) const {
    return Unsupported("regex: " + what + " (at offset " + std::to_string(pos_) +
                       ") is not supported");
  }

  int32_t add(RegexNode node) {
    ast_.nodes.push_back(std::move(node));
    return static_cast<int32_t>(ast_.nodes.size() - 1);
  }
  int32_t chars(CodepointSet set) {
    if (options_.restrict_chars) set = set.intersect(*options_.restrict_chars);
    RegexNode n;
    n.kind = set.empty() ? RegexKind::kNothing : RegexKind::kChars;
    n.chars = std::move(set);
    return add(std::move(n));
  }
  int32_t concat(std::vector<int32_t> parts) {
    if (parts.size() == 1) return parts[0];
    RegexNode n;
    n.kind = parts.empty() ? RegexKind::kEmpty : RegexKind::kConcat;
    n.children = std::move(parts);
    return add(std::move(n));
  }
  int32_t repeat(int32_t child, int32_t min, int32_t max) {
    RegexNode n;
    n.kind = RegexKind::kRepeat;
    n.children = {child};
    n.min = min;
    n.max = max;
    return add(std::move(n));
  }
  CodepointSet any_char(bool dot) const {
    CodepointSet s;
    s.add(0, kMaxCodepoint);
    if (dot) {
      CodepointSet nl;
      nl.add('\n', '\n');
      s = s.intersect(nl.complement());
    }
    if (options_.restrict_chars) s = s.intersect(*options_.restrict_chars);
    return s;
  }

  bool at_end() const { return pos_ >= cps_.size(); }
  uint32_t peek() const { return cps_[pos_]; }

  Result<int32_t> parse_alt() {
    std::vector<int32_t> branches;
    while (true) {
      auto c = parse_concat();
      if (!c.ok()) return c.status();
      branches.push_back(*c);
      if (!at_end() && peek() == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (branches.size() == 1) return branches[0];
    RegexNode n;
    n.kind = RegexKind::kAlt;
    n.children = std::move(branches);
    return add(std::move(n));
  }

  Result<int32_t> parse_concat() {
    std::vector<int32_t> parts;
    while (!at_end() && peek() != '|' && peek() != ')') {
      auto atom = parse_atom();
      if (!atom.ok()) return atom.status();
      int32_t node = *atom;
      int32_t stacked = 0;
      while (!at_end()) {
        int32_t min = 0, max = 0;
        size_t save = pos_;
        uint32_t c = peek();
        if (c == '*') {
          min = 0, max = -1, ++pos_;
        } else if (c == '+') {
          min = 1, max = -1, ++pos_;
        } else if (c == '?') {
          min = 0, max = 1, ++pos_;
        } else if (c == '{') {
          if (!parse_braces(&min, &max)) {
            pos_ = save;
            break;  // a literal '{', as RE2 reads it
          }
          if (min > kMaxRepeat || max > kMaxRepeat) return error("repeat count over 1000");
          if (max >= 0 && max < min) return error("repeat {n,m} with m < n");
        } else {
          break;
        }
        if (!at_end() && peek() == '?') ++pos_;  // lazy: same language
        if (!at_end() && peek() == '+') return unsupported("possessive quantifier");
        if (++stacked > kMaxStackedQuantifiers) {
          return error("more than " + std::to_string(kMaxStackedQuantifiers) +
                       " quantifiers on one atom");
        }
        node = repeat(node, min, max);
      }
      parts.push_back(node);
    }
    return concat(std::move(parts));
  }

  bool parse_number(int32_t* out) {
    size_t start = pos_;
    int64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > 100000) v = 100000;
      ++pos_;
    }
    *out = static_cast<int32_t>(v);
    return pos_ > start;
  }

  bool parse_braces(int32_t* min, int32_t* max) {
    ++pos_;  // '{'
    if (!parse_number(min)) return false;
    if (at_end()) return false;
    if (peek() == '}') {
      ++pos_;
      *max = *min;
      return true;
    }
    if (peek() != ',') return false;
    ++pos_;
    if (at_end()) return false;
    if (peek() == '}') {
      ++pos_;
      *max = -1;
      return true;
    }
    if (!parse_number(max)) return false;
    if (at_end() || peek() != '}') return false;
    ++pos_;
    return true;
  }

  Result<int32_t> parse_atom() {
    uint32_t c = peek();
    if (c == '(') {
      if (depth_ >= options_.max_group_depth) {
        return error("groups nested deeper than " + std::to_string(options_.max_group_depth));
      }
      ++pos_;
      if (!at_end() && peek() == '?') {
        ++pos_;
        if (at_end()) return error("unterminated group");
        uint32_t k = peek();
        if (k == ':') {
          ++pos_;
        } else if (k == 'P' || k == '<') {
          if (k == 'P') ++pos_;
          if (at_end() || peek() != '<') return unsupported("group flag");
          if (pos_ + 1 < cps_.size() && (cps_[pos_ + 1] == '=' || cps_[pos_ + 1] == '!')) {
            return unsupported("lookbehind");
          }
          while (!at_end() && peek() != '>') ++pos_;
          if (at_end()) return error("unterminated group name");
          ++pos_;
        } else if (k == '&' && options_.num_rules > 0) {
          return parse_rule_call();
        } else if (k == '=' || k == '!') {
          return unsupported("lookahead");
        } else {
          return unsupported("group flags");
        }
      }
      ++depth_;
      auto inner = parse_alt();
      --depth_;
      if (!inner.ok()) return inner.status();
      if (at_end() || peek() != ')') return error("missing ')'");
      ++pos_;
      return *inner;
    }
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return chars(any_char(/*dot=*/true));
    }
    if (c == '\\') {
      CodepointSet set;
      STEMMA_RETURN_IF_ERROR(parse_escape(&set, /*in_class=*/false));
      return chars(std::move(set));
    }
    if (c == '^' || c == '$') return unsupported("anchor inside the pattern");
    if (c == '*' || c == '+' || c == '?') return error("quantifier with nothing to repeat");
    ++pos_;
    CodepointSet set;
    set.add(c, c);
    return chars(std::move(set));
  }

  // After "(?": reads "&k)" and makes a call of rule k.
  Result<int32_t> parse_rule_call() {
    ++pos_;  // '&'
    int32_t k = 0;
    if (!parse_number(&k)) return error("rule call (?&k) without a rule number");
    if (at_end() || peek() != ')') return error("missing ')' after a rule call");
    ++pos_;
    if (k >= options_.num_rules) {
      return error("rule call (?&" + std::to_string(k) + ") names no rule (there are " +
                   std::to_string(options_.num_rules) + ")");
    }
    RegexNode n;
    n.kind = RegexKind::kRule;
    n.min = k;
    return add(std::move(n));
  }

  Status parse_hex(size_t digits, uint32_t* out) {
    uint32_t v = 0;
    for (size_t i = 0; i < digits; ++i) {
      if (at_end()) return error("short hex escape");
      uint32_t d = peek();
      int x = (d >= '0' && d <= '9')   ? int(d - '0')
              : (d >= 'a' && d <= 'f') ? int(d - 'a' + 10)
              : (d >= 'A' && d <= 'F') ? int(d - 'A' + 10)
                                       : -1;
      if (x < 0) return error("bad hex digit in escape");
      v = v * 16 + static_cast<uint32_t>(x);
      ++pos_;
    }
    *out = v;
    return OkStatus();
  }

  // Reads one escape after '\\' into `set` (a single code point or a class like \d).
  Status parse_escape(CodepointSet* set, bool in_class) {
    ++pos_;  // '\\'
    if (at_end()) return error("trailing backslash");
    uint32_t c = peek();
    ++pos_;
    auto add_class = [&](char k) {
      CodepointSet s;
      if (k == 'd') {
        s.add('0', '9');
      } else if (k == 'w') {
        s.add('0', '9'), s.add('A', 'Z'), s.add('a', 'z'), s.add('_', '_');
      } else {
        s.add('\t', '\n'), s.add('\f', '\r'), s.add(' ', ' ');
      }
      return s;
    };
    switch (c) {
      case 'd':
      case 'w':
      case 's':
        set->add_set(add_class(static_cast<char>(c)));
        return OkStatus();
      case 'D':
      case 'W':
      case 'S':
        set->add_set(add_class(static_cast<char>(c - 'A' + 'a')).complement());
        return OkStatus();
      case 'n':
        set->add('\n', '\n');
        return OkStatus();
      case 'r':
        set->add('\r', '\r');
        return OkStatus();
      case 't':
        set->add('\t', '\t');
        return OkStatus();
      case 'f':
        set->add('\f', '\f');
        return OkStatus();
      case 'v':
        set->add('\v', '\v');
        return OkStatus();
      case 'x': {
        uint32_t v = 0;
        if (!at_end() && peek() == '{') {
          ++pos_;
          size_t start = pos_;
          while (!at_end() && peek() != '}') ++pos_;
          if (at_end() || pos_ == start || pos_ - start > 6) return error("bad \\x{...}");
          size_t n = pos_ - start;
          pos_ = start;
          STEMMA_RETURN_IF_ERROR(parse_hex(n, &v));
          ++pos_;  // '}'
        } else {
          STEMMA_RETURN_IF_ERROR(parse_hex(2, &v));
        }
        if (v > kMaxCodepoint) return error("code point past U+10FFFF");
        set->add(v, v);
        return OkStatus();
      }
      case 'u': {
        uint32_t v = 0;
        STEMMA_RETURN_IF_ERROR(parse_hex(4, &v));
        set->add(v, v);
        return OkStatus();
      }
      case 'b':
        if (in_class) return unsupported("\\b in a class");
        return unsupported("word boundary \\b");
      case 'B':
      case 'A':
      case 'z':
      case 'Z':
        return unsupported(std::string("assertion \\") + static_cast<char>(c));
      case 'p':
      case 'P':
        return unsupported("Unicode class \\p");
      default:
        break;
    }
    if (c >= '0' && c <= '9') return unsupported("backreference or octal escape");
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      return unsupported(std::string("escape \\") + static_cast<char>(c));
    }
    set->add(c, c);  // escaped punctuation or any other literal
    return OkStatus();
  }

  Result<int32_t> parse_class() {
    ++pos_;  // '['
    bool negate = false;
    if (!at_end() && peek() == '^') {
      negate = true;
      ++pos_;
    }
    CodepointSet set;
    bool first = true;
    while (true) {
      if (at_end()) return error("missing ']'");
      uint32_t c = peek();
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == '[' && pos_ + 1 < cps_.size() && cps_[pos_ + 1] == ':') {
        return unsupported("POSIX class [:...:]");
      }
      // One item: a code point (maybe the start of a range) or a class escape.
      uint32_t lo = 0;
      if (c == '\\') {
        CodepointSet item;
        STEMMA_RETURN_IF_ERROR(parse_escape(&item, /*in_class=*/true));
        if (item.ranges().size() != 1 || item.ranges()[0].lo != item.ranges()[0].hi) {
          set.add_set(item);
          continue;
        }
        lo = item.ranges()[0].lo;
      } else {
        lo = c;
        ++pos_;
      }
      if (pos_ + 1 < cps_.size() && peek() == '-' && cps_[pos_ + 1] != ']') {
        ++pos_;  // '-'
        uint32_t hi = 0;
        if (peek() == '\\') {
          CodepointSet item;
          STEMMA_RETURN_IF_ERROR(parse_escape(&item, /*in_class=*/true));
          if (item.ranges().size() != 1 || item.ranges()[0].lo != item.ranges()[0].hi) {
            return error("class escape as a range end");
          }
          hi = item.ranges()[0].lo;
        } else {
          hi = peek();
          ++pos_;
        }
        if (hi < lo) return error("range out of order in class");
        set.add(lo, hi);
      } else {
        set.add(lo, lo);
      }
    }
    if (negate) set = set.complement();
    return chars(std::move(set));
  }

  std::vector<uint32_t> cps_;
  const RegexParseOptions& options_;
  size_t pos_ = 0;
  int32_t depth_ = 0;  // groups open at pos_
  RegexAst ast_;
};

}  // namespace

Result<RegexAst> parse_regex(std::string_view pattern, const RegexParseOptions& options) {
  std::vector<uint32_t> cps;
  if (!decode_utf8(pattern, &cps)) return InvalidArgument("regex: pattern is not valid UTF-8");
  Parser parser(std::move(cps), options);
  return parser.parse();
}

}  // namespace stemma::constrain

namespace stemma::constrain {

namespace {

void print_codepoint(uint32_t cp, std::string* out) {
  bool plain = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (plain) {
    out->push_back(static_cast<char>(cp));
    return;
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\x{%x}", cp);
  *out += buf;
}

void print_node(const RegexAst& ast, int32_t id, std::string* out) {
  const RegexNode& n = ast.nodes[id];
  switch (n.kind) {
    case RegexKind::kNothing:
      *out += "[^\\x00-\\x{10ffff}]";
      return;
    case RegexKind::kEmpty:
      *out += "(?:)";
      return;
    case RegexKind::kChars: {
      const auto& rs = n.chars.ranges();
      if (rs.size() == 1 && rs[0].lo == rs[0].hi) {
        print_codepoint(rs[0].lo, out);
        return;
      }
      *out += "[";
      for (const CodepointRange& r : rs) {
        print_codepoint(r.lo, out);
        if (r.hi != r.lo) {
          *out += "-";
          print_codepoint(r.hi, out);
        }
      }
      *out += "]";
      return;
    }
    case RegexKind::kConcat:
      *out += "(?:";
      for (int32_t c : n.children) print_node(ast, c, out);
      *out += ")";
      return;
    case RegexKind::kAlt:
      *out += "(?:";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) *out += "|";
        print_node(ast, n.children[i], out);
      }
      *out += ")";
      return;
    case RegexKind::kRule:
      *out += "(?&" + std::to_string(n.min) + ")";
      return;
    case RegexKind::kRepeat:
      *out += "(?:";
      print_node(ast, n.children[0], out);
      *out += "){" + std::to_string(n.min) + ",";
      if (n.max >= 0) *out += std::to_string(n.max);
      *out += "}";
      return;
  }
}

}  // namespace

std::string print_regex(const RegexAst& ast) {
  std::string out;
  if (ast.root >= 0) print_node(ast, ast.root, &out);
  return out;
}

}  // namespace stemma::constrain
