// Each step rewrites the whole string, as HF's NormalizedString does (offsets are not kept:
// the tokenizer needs only the normalized text).
#include "engine/tokenizer/normalizer.h"

#include <re2/re2.h>

#include "engine/tokenizer/regex_splitter.h"
#include "engine/tokenizer/token_strings.h"
#include "engine/tokenizer/unicode.h"
#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

template <typename F>
std::string map_chars(std::string_view text, F&& f) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const char32_t c = utf8::decode(text, pos, &len);
    f(c, text.substr(pos, len), &out);
    pos += len;
  }
  return out;
}

// HF's StripAccents drops every mark (M*); BertNormalizer's accent stripping only Mn.
std::string strip_marks(std::string_view text, bool nonspacing_only) {
  return map_chars(text, [nonspacing_only](char32_t c, std::string_view raw, std::string* out) {
    const bool drop =
        nonspacing_only ? unicode::category(c) == unicode::Category::kMn : unicode::is_mark(c);
    if (!drop) out->append(raw);
  });
}

std::string lowercase(std::string_view text) {
  return map_chars(text, [](char32_t c, std::string_view, std::string* out) {
    unicode::append_lowercase(c, out);
  });
}

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::string bert(std::string_view text, const NormalizerSpec& s) {
  std::string t(text);
  if (s.clean_text) {
    t = map_chars(t, [](char32_t c, std::string_view raw, std::string* out) {
      if (c == 0 || c == 0xFFFD) return;
      const bool ws = c == '\t' || c == '\n' || c == '\r' || unicode::is_white_space(c);
      if (ws) {
        out->push_back(' ');
      } else {
        // HF's is_control: the "other" categories it has tables for (Cc, Cf, Co, Cs); an
        // unassigned code point stays.
        const unicode::Category cat = unicode::category(c);
        const bool control = cat == unicode::Category::kCc || cat == unicode::Category::kCf ||
                             cat == unicode::Category::kCo || cat == unicode::Category::kCs;
        if (!control) out->append(raw);
      }
    });
  }
  if (s.handle_chinese_chars) {
    t = map_chars(t, [](char32_t c, std::string_view raw, std::string* out) {
      if (is_chinese_char(c)) {
        out->push_back(' ');
        out->append(raw);
        out->push_back(' ');
      } else {
        out->append(raw);
      }
    });
  }
  const bool strip = s.strip_accents < 0 ? s.lowercase : s.strip_accents == 1;
  if (strip) t = strip_marks(unicode::normalize(t, unicode::Form::kNfd), true);
  if (s.lowercase) t = lowercase(t);
  return t;
}

std::string strip_white_space(std::string_view text, bool left, bool right) {
  size_t b = 0, e = text.size();
  if (left) {
    while (b < e) {
      size_t len = 0;
      if (!unicode::is_white_space(utf8::decode(text, b, &len))) break;
      b += len;
    }
  }
  if (right) {
    while (e > b) {
      size_t p = e - 1;
      while (p > b && (static_cast<uint8_t>(text[p]) & 0xC0) == 0x80) --p;
      size_t len = 0;
      if (!unicode::is_white_space(utf8::decode(text, p, &len))) break;
      e = p;
    }
  }
  return std::string(text.substr(b, e - b));
}

}  // namespace

Normalizer::~Normalizer() = default;

Result<std::unique_ptr<Normalizer>> Normalizer::create(const std::vector<NormalizerSpec>& steps) {
  std::unique_ptr<Normalizer> n(new Normalizer());
  for (const auto& spec : steps) {
    Step step{spec, nullptr};
    if (spec.kind == NormalizerSpec::Kind::kReplace && spec.regex) {
      bool space_group = false;
      STEMMA_ASSIGN_OR_RETURN(std::string translated,
                              translate_regex_for_re2(spec.pattern, &space_group));
      if (space_group) {
        return Unsupported("normalizer Replace: the `\\s+(?!\\S)` idiom in " + spec.pattern);
      }
      RE2::Options options;
      options.set_encoding(RE2::Options::EncodingUTF8);
      options.set_log_errors(false);
      step.re = std::make_unique<re2::RE2>(translated, options);
      if (!step.re->ok()) {
        return InvalidArgument("normalizer Replace: regex does not compile (" + step.re->error() +
                               "): " + spec.pattern);
      }
    }
    n->steps_.push_back(std::move(step));
  }
  return n;
}

std::string Normalizer::apply(std::string_view text) const {
  std::string t(text);
  for (const auto& step : steps_) {
    const NormalizerSpec& s = step.spec;
    switch (s.kind) {
      case NormalizerSpec::Kind::kNfc:
        t = unicode::normalize(t, unicode::Form::kNfc);
        break;
      case NormalizerSpec::Kind::kNfd:
        t = unicode::normalize(t, unicode::Form::kNfd);
        break;
      case NormalizerSpec::Kind::kNfkc:
        t = unicode::normalize(t, unicode::Form::kNfkc);
        break;
      case NormalizerSpec::Kind::kNfkd:
        t = unicode::normalize(t, unicode::Form::kNfkd);
        break;
      case NormalizerSpec::Kind::kLowercase:
        t = lowercase(t);
        break;
      case NormalizerSpec::Kind::kReplace:
        t = step.re ? replace_regex_matches(t, *step.re, s.content)
                    : token_strings::replace_all(t, s.pattern, s.content);
        break;
      case NormalizerSpec::Kind::kPrepend:
        if (!t.empty()) t = s.content + t;
        break;
      case NormalizerSpec::Kind::kStrip:
        t = strip_white_space(t, s.left, s.right);
        break;
      case NormalizerSpec::Kind::kStripAccents:
        t = strip_marks(t, false);
        break;
      case NormalizerSpec::Kind::kBert:
        t = bert(t, s);
        break;
    }
  }
  return t;
}

}  // namespace stemma
