#include "engine/tokenizer/regex_splitter.h"

#include <re2/re2.h>

#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

// Unicode White_Space (what \s means in Oniguruma, HF tokenizers' regex engine), written for
// use inside a character class.
constexpr std::string_view kWhiteSpaceMembers =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

// Oniguruma's Unicode \d (Decimal_Number) and \w (Letter | Mark | Decimal_Number |
// Connector_Punctuation), for use inside a character class.
constexpr std::string_view kDigitMembers = "\\p{Nd}";
constexpr std::string_view kWordMembers = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";

constexpr std::string_view kSpaceIdiom = "\\s+(?!\\S)|\\s+";

bool is_white_space(char32_t c) {
  return c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r' || c == ' ' || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool all_white_space(std::string_view text, size_t start, size_t end) {
  for (size_t p = start; p < end;) {
    size_t len = 0;
    if (!is_white_space(utf8::decode(text, p, &len))) return false;
    p += len;
  }
  return true;
}

}  // namespace

std::string pre_tokenizer_regex_for(std::string_view name) {
  if (name == "gpt2" || name == "gpt-2" || name == "default" || name == "starcoder" ||
      name == "smollm") {
    return "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
  }
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3" || name == "smaug-bpe") {
    return "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
           "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  }
  if (name == "qwen2" || name == "deepseek-r1-qwen") {
    return "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
           "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  }
  return "";
}

Result<std::string> translate_regex_for_re2(const std::string& pattern, bool* space_group) {
  *space_group = false;
  std::string src = pattern;
  const size_t idiom = src.find(kSpaceIdiom);
  if (idiom != std::string::npos) {
    if (idiom + kSpaceIdiom.size() != src.size() || idiom == 0 || src[idiom - 1] != '|') {
      return Unsupported(
          "pre-tokenizer regex: `\\s+(?!\\S)|\\s+` is supported only as the last "
          "alternative of the pattern: " +
          pattern);
    }
    *space_group = true;
  }
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < src.size(); ++i) {
    if (*space_group && i == idiom) {
      out += "([";
      out += kWhiteSpaceMembers;
      out += "]+)";
      break;
    }
    const char c = src[i];
    if (c == '\\' && i + 1 < src.size()) {
      const char n = src[i + 1];
      if (n == 'd' || n == 'D' || n == 'w' || n == 'W') {
        // Oniguruma's \d and \w are Unicode (re2's are ASCII).
        const std::string_view members = (n == 'd' || n == 'D') ? kDigitMembers : kWordMembers;
        const bool negated = n == 'D' || n == 'W';
        if (in_class) {
          if (negated) {
            return Unsupported(std::string("pre-tokenizer regex: \\") + n +
                               " inside a class: " + pattern);
          }
          out += members;
        } else {
          out += negated ? "[^" : "[";
          out += members;
          out += "]";
        }
      } else if (n == 's' || n == 'S') {
        if (in_class) {
          if (n == 'S') return Unsupported("pre-tokenizer regex: \\S inside a class: " + pattern);
          out += kWhiteSpaceMembers;
        } else {
          out += n == 's' ? "[" : "[^";
          out += kWhiteSpaceMembers;
          out += "]";
        }
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < src.size() && src[i + 1] == '^') out += src[++i];
      if (i + 1 < src.size() && src[i + 1] == ']') out += src[++i];  // literal ] first
      continue;
    }
    if (c == '(') {
      if (i + 2 < src.size() && src[i + 1] == '?' &&
          (src[i + 2] == '=' || src[i + 2] == '!' || src[i + 2] == '<')) {
        return Unsupported("pre-tokenizer regex: lookaround `" + src.substr(i, 3) + "` at offset " +
                           std::to_string(i) + " (re2 has none): " + pattern);
      }
      // Plain groups become non-capturing so group 1 is only ever the space idiom.
      out += (i + 1 < src.size() && src[i + 1] == '?') ? "(" : "(?:";
      continue;
    }
    out += c;
  }
  return out;
}

std::string strip_space_group(const std::string& translated) {
  const size_t p = translated.rfind("|([");
  return p == std::string::npos ? translated : translated.substr(0, p);
}

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::create(const std::string& pattern) {
  bool space_group = false;
  STEMMA_ASSIGN_OR_RETURN(std::string translated, translate_regex_for_re2(pattern, &space_group));
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(translated, options);
  if (!re->ok()) {
    return InvalidArgument("pre-tokenizer regex does not compile (" + re->error() +
                           "): " + pattern);
  }
  std::unique_ptr<RegexSplitter> splitter(new RegexSplitter());
  splitter->re_ = std::move(re);
  if (space_group) {
    auto prefix = std::make_unique<re2::RE2>(strip_space_group(translated), options);
    if (!prefix->ok()) {
      return InvalidArgument("pre-tokenizer regex does not compile (" + prefix->error() +
                             "): " + pattern);
    }
    splitter->prefix_re_ = std::move(prefix);
  }
  return splitter;
}

RegexSplitter::~RegexSplitter() = default;

void RegexSplitter::find_matches(std::string_view text, std::vector<Segment>* out) const {
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  size_t pos = 0;   // where the next search starts
  size_t prev = 0;  // end of the last segment
  while (pos <= text.size()) {
    // Only the overall match is asked for: re2 then runs its DFAs, never the slower
    // submatch engines.
    if (!re_->Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) break;
    size_t start = static_cast<size_t>(match.data() - text.data());
    size_t end = start + match.size();
    if (prefix_re_ && end < text.size() && match.size() > 1 && all_white_space(text, start, end)) {
      size_t len = 0;
      const char32_t next = utf8::decode(text, end, &len);
      re2::StringPiece ignored;
      if (!is_white_space(next) &&
          !prefix_re_->Match(input, start, text.size(), RE2::ANCHOR_START, &ignored, 1)) {
        // `\s+(?!\S)`: a whitespace run followed by a non-space leaves its last character to
        // the next piece (when the run is one character, the plain `\s+` keeps it).
        size_t last = start;
        for (size_t p = start; p < end;) {
          last = p;
          utf8::decode(text, p, &len);
          p += len;
        }
        if (last > start) end = last;
      }
    }
    if (start > prev) out->push_back({prev, start, false});
    out->push_back({start, end, true});
    prev = end;
    if (end == start) {
      // An empty match: the search moves one character on.
      if (start >= text.size()) break;
      size_t len = 0;
      utf8::decode(text, start, &len);
      pos = start + len;
    } else {
      pos = end;
    }
  }
  if (prev < text.size()) out->push_back({prev, text.size(), false});
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>* pieces) const {
  thread_local std::vector<Segment> segments;
  segments.clear();
  find_matches(text, &segments);
  for (const Segment& s : segments) {
    if (s.end > s.begin) pieces->push_back(text.substr(s.begin, s.end - s.begin));
  }
}

// Every non-overlapping match of `re` replaced by `content` (literally: HF's Replace does not
// expand $1 or \1). Empty matches replace nothing.
std::string replace_regex_matches(std::string_view text, const re2::RE2& re,
                                  std::string_view content) {
  std::string out;
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece m;
  size_t pos = 0, copied = 0;
  while (pos <= text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
    const size_t start = static_cast<size_t>(m.data() - text.data());
    const size_t end = start + m.size();
    if (end > start) {
      out.append(text.substr(copied, start - copied));
      out.append(content);
      copied = end;
      pos = end;
    } else {
      if (start >= text.size()) break;
      size_t len = 0;
      utf8::decode(text, start, &len);
      pos = start + len;
    }
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace stemma
