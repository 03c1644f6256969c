#include "sdk/rag/spelling.h"

#include <algorithm>

#include "sdk/rag/faq_retriever.h"

namespace stemma::rag {

std::vector<std::string> term_edits(std::string_view term) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<std::string> out;
  const std::string t(term);
  for (size_t i = 1; i <= t.size(); ++i) {
    for (char c : kAlphabet) out.push_back(t.substr(0, i) + c + t.substr(i));
    if (i < t.size()) out.push_back(t.substr(0, i) + t.substr(i + 1));
    if (i + 1 < t.size()) {
      std::string swapped = t;
      std::swap(swapped[i], swapped[i + 1]);
      out.push_back(std::move(swapped));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.erase(std::remove(out.begin(), out.end(), t), out.end());
  return out;
}

SpellingVocabulary::SpellingVocabulary(const std::vector<FaqEntry>& entries) {
  for (const FaqEntry& e : entries) {
    for (const std::string* field : {&e.title, &e.question, &e.answer, &e.tags}) {
      // Lower-case ASCII words; every other byte separates words (the FAQ is ASCII, and a
      // non-ASCII letter could never be a query term's correction anyway).
      std::string word;
      auto flush = [&] {
        if (!word.empty() && !is_query_stop_word(word)) ++counts_[word];
        word.clear();
      };
      for (char c : *field) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
          word.push_back(c);
        } else {
          flush();
        }
      }
      flush();
    }
  }
}

int64_t SpellingVocabulary::count(std::string_view word) const {
  auto it = counts_.find(word);
  return it == counts_.end() ? 0 : it->second;
}

std::optional<std::string> SpellingVocabulary::best_edit(std::string_view term) const {
  std::optional<std::string> best;
  int64_t best_count = 0;
  for (std::string& w : term_edits(term)) {  // sorted: the first of equal counts is smallest
    const int64_t n = count(w);
    if (n > best_count) {
      best_count = n;
      best = std::move(w);
    }
  }
  return best;
}

}  // namespace stemma::rag
