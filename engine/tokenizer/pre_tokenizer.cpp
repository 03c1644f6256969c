// Every splitting step finds segments (matches of its pattern and the gaps between them), then
// keeps, drops or merges them by its behavior, exactly as HF's NormalizedString::split does.
#include "engine/tokenizer/pre_tokenizer.h"

#include "engine/tokenizer/unicode.h"
#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

using Segment = RegexSplitter::Segment;

// Each occurrence of a literal (non-overlapping, left to right) is one match.
void literal_matches(std::string_view text, std::string_view pattern, std::vector<Segment>* out) {
  size_t prev = 0;
  if (!pattern.empty()) {
    for (size_t hit = text.find(pattern); hit != std::string_view::npos;
         hit = text.find(pattern, hit + pattern.size())) {
      if (hit > prev) out->push_back({prev, hit, false});
      out->push_back({hit, hit + pattern.size(), true});
      prev = hit + pattern.size();
    }
  }
  if (prev < text.size()) out->push_back({prev, text.size(), false});
}

// Each character for which `pred` holds is one match; the runs between are gaps.
template <typename Pred>
void char_matches(std::string_view text, Pred&& pred, std::vector<Segment>* out) {
  size_t prev = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const char32_t c = utf8::decode(text, pos, &len);
    if (pred(c)) {
      if (pos > prev) out->push_back({prev, pos, false});
      out->push_back({pos, pos + len, true});
      prev = pos + len;
    }
    pos += len;
  }
  if (prev < text.size()) out->push_back({prev, text.size(), false});
}

// HF's SplitDelimiterBehavior over the segments: (begin, end, remove) spans.
void apply_behavior(std::vector<Segment>& segs, SplitBehavior behavior, bool invert,
                    std::vector<Segment>* spans) {
  if (invert) {
    for (auto& s : segs) s.match = !s.match;
  }
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : segs) spans->push_back({s.begin, s.end, false});
      return;
    case SplitBehavior::kRemoved:
      for (const auto& s : segs) spans->push_back({s.begin, s.end, s.match});
      return;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (const auto& s : segs) {
        if (s.match == previous && !spans->empty()) {
          spans->back().end = s.end;
        } else {
          spans->push_back({s.begin, s.end, false});
        }
        previous = s.match;
      }
      return;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (const auto& s : segs) {
        if (s.match && !previous && !spans->empty()) {
          spans->back().end = s.end;
        } else {
          spans->push_back({s.begin, s.end, false});
        }
        previous = s.match;
      }
      return;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      std::vector<Segment> rev;
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->match && !previous && !rev.empty()) {
          rev.back().begin = it->begin;
        } else {
          rev.push_back({it->begin, it->end, false});
        }
        previous = it->match;
      }
      spans->insert(spans->end(), rev.rbegin(), rev.rend());
      return;
    }
  }
}

bool is_bert_punctuation(char32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126) || unicode::is_punctuation(c);
}

}  // namespace

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::create(
    const std::vector<PreTokenizerSpec>& steps) {
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  for (const auto& spec : steps) {
    if (p->byte_level_ && spec.kind != PreTokenizerSpec::Kind::kByteLevel) {
      // After ByteLevel, HF's later steps see GPT-2's byte characters, not text.
      return Unsupported("pre-tokenizer step after ByteLevel (a Sequence must end with it)");
    }
    Step step{spec, nullptr};
    using K = PreTokenizerSpec::Kind;
    if (spec.kind == K::kSplit && spec.regex) {
      STEMMA_ASSIGN_OR_RETURN(step.regex, RegexSplitter::create(spec.pattern));
    } else if (spec.kind == K::kWhitespace) {
      STEMMA_ASSIGN_OR_RETURN(step.regex, RegexSplitter::create("\\w+|[^\\w\\s]+"));
    } else if (spec.kind == K::kByteLevel) {
      p->byte_level_ = true;
      if (spec.use_regex) {
        STEMMA_ASSIGN_OR_RETURN(step.regex, RegexSplitter::create(pre_tokenizer_regex_for("gpt2")));
      }
    }
    p->steps_.push_back(std::move(step));
  }
  return p;
}

void PreTokenizer::run_step(const Step& step, const std::vector<Piece>& in, std::vector<Piece>* out,
                            std::deque<std::string>* storage) const {
  using K = PreTokenizerSpec::Kind;
  const PreTokenizerSpec& s = step.spec;
  std::vector<Segment> segs, spans;
  auto emit = [&](const Piece& piece, SplitBehavior behavior, bool invert) {
    spans.clear();
    apply_behavior(segs, behavior, invert, &spans);
    for (const auto& sp : spans) {
      if (sp.match || sp.end == sp.begin) continue;  // removed, or empty
      out->push_back(
          {piece.text.substr(sp.begin, sp.end - sp.begin), piece.at_input_start && sp.begin == 0});
    }
  };
  for (const Piece& piece : in) {
    segs.clear();
    switch (s.kind) {
      case K::kSplit:
        if (step.regex) {
          step.regex->find_matches(piece.text, &segs);
        } else {
          literal_matches(piece.text, s.pattern, &segs);
        }
        emit(piece, s.behavior, s.invert);
        break;
      case K::kDigits:
        char_matches(piece.text, unicode::is_number, &segs);
        emit(piece, s.individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous,
             false);
        break;
      case K::kPunctuation:
        char_matches(piece.text, is_bert_punctuation, &segs);
        emit(piece, s.behavior, false);
        break;
      case K::kWhitespace:
        step.regex->find_matches(piece.text, &segs);
        emit(piece, SplitBehavior::kRemoved, true);
        break;
      case K::kWhitespaceSplit:
        char_matches(piece.text, unicode::is_white_space, &segs);
        emit(piece, SplitBehavior::kRemoved, false);
        break;
      case K::kCharDelimiter:
        literal_matches(piece.text, s.pattern, &segs);
        emit(piece, SplitBehavior::kRemoved, false);
        break;
      case K::kBert: {
        std::vector<Piece> words;
        char_matches(piece.text, unicode::is_white_space, &segs);
        spans.clear();
        apply_behavior(segs, SplitBehavior::kRemoved, false, &spans);
        for (const auto& sp : spans) {
          if (sp.match || sp.end == sp.begin) continue;
          words.push_back({piece.text.substr(sp.begin, sp.end - sp.begin),
                           piece.at_input_start && sp.begin == 0});
        }
        for (const Piece& w : words) {
          segs.clear();
          char_matches(w.text, is_bert_punctuation, &segs);
          emit(w, SplitBehavior::kIsolated, false);
        }
        break;
      }
      case K::kMetaspace: {
        std::string t;
        t.reserve(piece.text.size() + 3);
        for (char c : piece.text) {
          if (c == ' ') {
            t += s.replacement;
          } else {
            t.push_back(c);
          }
        }
        const bool starts = t.compare(0, s.replacement.size(), s.replacement) == 0;
        if (!starts && (s.prepend_scheme == PrependScheme::kAlways ||
                        (s.prepend_scheme == PrependScheme::kFirst && piece.at_input_start))) {
          t.insert(0, s.replacement);
        }
        storage->push_back(std::move(t));
        const Piece replaced{storage->back(), piece.at_input_start};
        if (!s.split) {
          if (!replaced.text.empty()) out->push_back(replaced);
          break;
        }
        literal_matches(replaced.text, s.replacement, &segs);
        emit(replaced, SplitBehavior::kMergedWithNext, false);
        break;
      }
      case K::kByteLevel: {
        Piece p = piece;
        if (s.add_prefix_space && (p.text.empty() || p.text[0] != ' ')) {
          storage->push_back(" " + std::string(p.text));
          p.text = storage->back();
        }
        if (!step.regex) {
          if (!p.text.empty()) out->push_back(p);
          break;
        }
        step.regex->find_matches(p.text, &segs);
        emit(p, SplitBehavior::kIsolated, false);
        break;
      }
    }
  }
}

void PreTokenizer::split(std::string_view text, bool at_input_start, std::vector<Piece>* pieces,
                         std::deque<std::string>* storage) const {
  if (text.empty()) return;
  if (steps_.empty()) {
    pieces->push_back({text, at_input_start});
    return;
  }
  std::vector<Piece> current{{text, at_input_start}}, next;
  for (const auto& step : steps_) {
    next.clear();
    run_step(step, current, &next, storage);
    current.swap(next);
  }
  pieces->insert(pieces->end(), current.begin(), current.end());
}

}  // namespace stemma
