#include "sdk/rag/fts_query.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <unordered_set>

namespace stemma::rag {
namespace {

// Common English function words: they match nearly every chunk and only add noise to BM25.
constexpr std::string_view kStopWords[] = {
    "a",      "about",  "above", "after",  "again",    "against",    "all",  "am",
    "an",     "and",    "any",   "are",    "as",       "at",         "be",   "because",
    "been",   "before", "being", "below",  "between",  "both",       "but",  "by",
    "can",    "could",  "did",   "do",     "does",     "doing",      "down", "during",
    "each",   "few",    "for",   "from",   "further",  "had",        "has",  "have",
    "having", "he",     "her",   "here",   "hers",     "herself",    "him",  "himself",
    "his",    "how",    "i",     "if",     "in",       "into",       "is",   "it",
    "its",    "itself", "just",  "me",     "more",     "most",       "my",   "myself",
    "no",     "nor",    "not",   "now",    "of",       "off",        "on",   "once",
    "only",   "or",     "other", "our",    "ours",     "out",        "over", "own",
    "s",      "same",   "she",   "should", "so",       "some",       "such", "t",
    "than",   "that",   "the",   "their",  "theirs",   "them",       "then", "there",
    "these",  "they",   "this",  "those",  "through",  "to",         "too",  "under",
    "until",  "up",     "very",  "was",    "we",       "were",       "what", "when",
    "where",  "which",  "while", "who",    "whom",     "why",        "will", "with",
    "would",  "you",    "your",  "yours",  "yourself", "yourselves", "ll",   "re",
    "ve",     "d",      "m",     "please", "tell",     "q"};

// Decodes one UTF-8 code point at text[*i], advancing *i; a malformed byte decodes as U+FFFD
// and advances by one.
uint32_t next_code_point(std::string_view text, size_t* i) {
  const auto b0 = static_cast<unsigned char>(text[*i]);
  size_t extra = 0;
  uint32_t cp = 0;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + extra >= text.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (size_t k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(text[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += extra + 1;
  return cp;
}

// Whether a code point is part of a word. ASCII letters and digits are; ASCII punctuation is
// not; beyond ASCII, the punctuation and symbol blocks that unicode61 treats as separators are
// not, and everything else (letters of other scripts) is.
bool is_word_code_point(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  }
  if (cp == 0xFFFD) return false;
  if (cp >= 0x80 && cp <= 0xBF) return false;      // Latin-1 controls, punctuation and symbols
  if (cp == 0xD7 || cp == 0xF7) return false;      // multiplication and division signs
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // general punctuation .. misc symbols/arrows
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;  // CJK compatibility forms
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;  // full-width punctuation
  if (cp >= 0x1F000) return false;                 // emoji and other pictographs
  return true;
}

std::vector<std::string> split_terms(std::string_view text) {
  std::vector<std::string> terms;
  std::string current;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    uint32_t cp = next_code_point(text, &i);
    if (is_word_code_point(cp)) {
      if (cp < 0x80) {
        char c = static_cast<char>(cp);
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        current.push_back(c);
      } else {
        current.append(text.substr(start, i - start));
      }
    } else if (!current.empty()) {
      terms.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) terms.push_back(std::move(current));
  return terms;
}

}  // namespace

bool is_stop_word(std::string_view lowercase_term) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), lowercase_term) !=
         std::end(kStopWords);
}

std::vector<std::string> query_terms(std::string_view question, const QueryTermOptions& options) {
  std::vector<std::string> all = split_terms(question);
  auto collect = [&](bool skip_stop_words) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const std::string& term : all) {
      if (out.size() >= options.max_terms) break;
      if (skip_stop_words && is_stop_word(term)) continue;
      if (seen.insert(term).second) out.push_back(term);
    }
    return out;
  };
  std::vector<std::string> terms = collect(options.remove_stop_words);
  if (terms.empty() && options.remove_stop_words) terms = collect(false);
  return terms;
}

std::string match_expression(const std::vector<std::string>& terms, bool prefix_match) {
  std::string out;
  for (const std::string& term : terms) {
    if (!out.empty()) out += " OR ";
    out.push_back('"');
    // Terms hold no '"' (it is a separator), but double any anyway: that is FTS5's escape.
    for (char c : term) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
    if (prefix_match) out.push_back('*');
  }
  return out;
}

}  // namespace stemma::rag
