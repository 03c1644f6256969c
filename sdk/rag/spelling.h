// Spelling correction of query terms against the FAQ's own words, as in training
// (tools/train/faq_format.py, Retriever.corrected): a term that matches no entry is replaced by
// the FAQ word one typing slip away that occurs most often (ties: the smaller string). Without
// it, one mistyped product or topic word ("termostat", "pluug") loses the entry it names.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/rag/faq_entry.h"

namespace stemma::rag {

// Terms shorter than this are never corrected (too many real words are one slip apart).
inline constexpr size_t kMinCorrectedLength = 5;

// The spellings one slip away from `term` that keep its first character: one character left
// out, one of [a-z0-9] put in, or two neighbours swapped (faq_format.term_edits). Sorted, unique,
// without `term` itself.
std::vector<std::string> term_edits(std::string_view term);

// How often each word ([a-z0-9]+ of the lower-cased title, question, answer and tags, stop words
// left out) occurs in the FAQ.
class SpellingVocabulary {
 public:
  explicit SpellingVocabulary(const std::vector<FaqEntry>& entries);

  // The most frequent FAQ word among term_edits(term), or nothing if none is an FAQ word.
  // (The caller decides whether the term needs correcting at all.)
  std::optional<std::string> best_edit(std::string_view term) const;

  int64_t count(std::string_view word) const;

 private:
  std::map<std::string, int64_t, std::less<>> counts_;
};

}  // namespace stemma::rag
