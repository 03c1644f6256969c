#include "engine/tokenizer/decoder.h"

#include <re2/re2.h>

#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/regex_splitter.h"
#include "engine/tokenizer/token_strings.h"
#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < s.size();) {
    size_t len = 0;
    utf8::decode(s, pos, &len);
    out.emplace_back(s.substr(pos, len));
    pos += len;
  }
  return out;
}

}  // namespace

std::string wordpiece_cleanup(std::string_view text) {
  std::string s(text);
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{" .", "."},
                          {" ?", "?"},
                          {" !", "!"},
                          {" ,", ","},
                          {" ' ", "'"},
                          {" n't", "n't"},
                          {" 'm", "'m"},
                          {" do not", " don't"},
                          {" 's", "'s"},
                          {" 've", "'ve"},
                          {" 're", "'re"}}) {
    s = token_strings::replace_all(s, from, to);
  }
  return s;
}

Decoder::~Decoder() = default;

Result<std::unique_ptr<Decoder>> Decoder::create(const std::vector<DecoderSpec>& steps,
                                                 bool present) {
  std::unique_ptr<Decoder> d(new Decoder());
  d->present_ = present;
  d->specs_ = steps;
  for (const auto& s : steps) {
    std::unique_ptr<re2::RE2> re;
    if (s.kind == DecoderSpec::Kind::kReplace && s.regex) {
      bool space_group = false;
      STEMMA_ASSIGN_OR_RETURN(std::string translated,
                              translate_regex_for_re2(s.pattern, &space_group));
      RE2::Options options;
      options.set_encoding(RE2::Options::EncodingUTF8);
      options.set_log_errors(false);
      re = std::make_unique<re2::RE2>(translated, options);
      if (space_group || !re->ok()) {
        return InvalidArgument("decoder Replace: unsupported regex: " + s.pattern);
      }
    }
    d->regexes_.push_back(std::move(re));
  }
  return d;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  if (!present_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
  using K = DecoderSpec::Kind;
  for (size_t k = 0; k < specs_.size(); ++k) {
    const DecoderSpec& s = specs_[k];
    std::vector<std::string> next;
    switch (s.kind) {
      case K::kByteLevel: {
        std::string bytes;
        for (const auto& t : tokens) {
          std::string b;
          if (byte_level::decode(t, &b)) {
            bytes += b;
          } else {
            bytes += t;  // a character outside the byte map: the token as it is
          }
        }
        next.push_back(utf8::sanitize(bytes));
        break;
      }
      case K::kReplace:
        for (auto& t : tokens) {
          if (regexes_[k]) {
            next.push_back(replace_regex_matches(t, *regexes_[k], s.content));
          } else {
            next.push_back(token_strings::replace_all(t, s.pattern, s.content));
          }
        }
        break;
      case K::kByteFallback: {
        std::string pending;
        auto flush = [&] {
          if (pending.empty()) return;
          if (utf8::is_valid(pending)) {
            next.push_back(pending);
          } else {
            for (size_t i = 0; i < pending.size(); ++i) next.emplace_back("\xEF\xBF\xBD");
          }
          pending.clear();
        };
        for (auto& t : tokens) {
          const int b = token_strings::byte_fallback_value(t);
          if (b >= 0) {
            pending.push_back(static_cast<char>(b));
          } else {
            flush();
            next.push_back(std::move(t));
          }
        }
        flush();
        break;
      }
      case K::kFuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        next.push_back(std::move(all));
        break;
      }
      case K::kStrip: {
        for (const auto& t : tokens) {
          const auto cps = code_points(t);
          size_t start = 0, stop = cps.size();
          for (size_t i = 0; i < cps.size() && i < static_cast<size_t>(s.start); ++i) {
            if (cps[i] != s.content) break;
            start = i + 1;
          }
          for (size_t i = 0; i < static_cast<size_t>(s.stop) && i < cps.size(); ++i) {
            const size_t index = cps.size() - i - 1;
            if (cps[index] != s.content) break;
            stop = index;
          }
          std::string r;
          for (size_t i = start; i < stop; ++i) r += cps[i];
          next.push_back(std::move(r));
        }
        break;
      }
      case K::kMetaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string r;
          for (const auto& c : code_points(tokens[i])) {
            if (c == s.replacement) {
              if (!(i == 0 && s.prepend_scheme != PrependScheme::kNever)) r.push_back(' ');
            } else {
              r += c;
            }
          }
          next.push_back(std::move(r));
        }
        break;
      case K::kWordPiece:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string t = std::move(tokens[i]);
          if (i != 0) {
            if (!s.prefix.empty() && t.compare(0, s.prefix.size(), s.prefix) == 0) {
              t.erase(0, s.prefix.size());
            } else {
              t.insert(0, " ");
            }
          }
          if (s.cleanup) t = wordpiece_cleanup(t);
          next.push_back(std::move(t));
        }
        break;
      case K::kBpe:
        for (size_t i = 0; i < tokens.size(); ++i) {
          next.push_back(
              token_strings::replace_all(tokens[i], s.prefix, i + 1 == tokens.size() ? "" : " "));
        }
        break;
      case K::kCtc: {
        for (size_t i = 0; i < tokens.size(); ++i) {
          if (i > 0 && tokens[i] == tokens[i - 1]) continue;
          std::string r = token_strings::replace_all(tokens[i], s.prefix, "");
          if (s.cleanup)
            r = token_strings::replace_all(wordpiece_cleanup(r), s.word_delimiter, " ");
          if (!r.empty()) next.push_back(std::move(r));
        }
        break;
      }
    }
    tokens.swap(next);
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

}  // namespace stemma
