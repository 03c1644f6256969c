// The FAQ bot's retriever (tools/train/faq_format.py, Retriever; docs/demo-model.md, "The
// context block"): SQLite FTS5 over the FAQ, one row per entry in FAQ order,
//
//   CREATE VIRTUAL TABLE faq USING fts5(id UNINDEXED, title, question, answer, tags,
//                                       tokenize = 'porter unicode61');
//
// Each search term is matched on its own (SELECT rowid, bm25(faq, 0.0, 2.0, 2.0, 1.0, 1.0)
// ... WHERE faq MATCH '"term"'). The query terms are the question's terms, each
// spelling-corrected (spelling.h) when it is at least kMinCorrectedLength characters, not all
// digits, and matches no entry; the synonym terms come from everyday synonyms of the question's
// phrases (synonym_terms). An entry's score is the sum of its query terms' bm25 plus
// kSynonymWeight times its synonym terms' bm25; entries that match more distinct query terms
// rank first, then lower score, then FAQ order. The shipped model was trained with the plain
// bm25 ranking of the OR of the query terms (docs/demo-model.md says what changed and why).
//
// It lives here and not in sdk/rag's RagStore on purpose: RagStore's table (title, heading,
// body), its stop-word list and its fallback for all-stop-word questions are a general RAG
// design, while this column set, these weights and this query construction are one trained
// model's contract, which must not drift when the general store improves.
//
// The index is an in-memory SQLite database (rebuilt from faq.json in a few milliseconds).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "demos/faq-bot/faq_data.h"
#include "demos/faq-bot/spelling.h"
#include "engine/common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stemma::faqbot {

inline constexpr int kRetrieveTopK = 5;
// How much a synonym term's bm25 counts against a query term's.
inline constexpr double kSynonymWeight = 0.25;

// Every [a-z0-9]+ of the lower-cased question, in order, stop words and repeats kept (Python's
// str.lower() semantics for the few non-ASCII letters that lower to ASCII).
std::vector<std::string> query_words(std::string_view question);
// The query terms of a question: query_words minus stop words and repeats.
std::vector<std::string> query_terms(std::string_view question);
// The extra search terms of a question (faq_format.synonym_terms): scanning its words left to
// right, the longest synonym phrase starting at each place (the scan continues after it) adds
// the words of each of its synonyms, minus stop words, `terms` and repeats.
std::vector<std::string> synonym_terms(std::string_view question,
                                       const std::vector<std::string>& terms);
// `"t1" OR "t2" ...`; "" when there are no terms (then nothing is retrieved).
std::string match_expression(const std::vector<std::string>& terms);
bool is_query_stop_word(std::string_view lowercase_word);

struct ScoredEntry {
  const FaqEntry* entry = nullptr;
  double bm25 = 0;  // the ranking score (sums of SQLite's bm25()): lower is a better match (< 0)
};

class FaqRetriever {
 public:
  static Result<std::unique_ptr<FaqRetriever>> create(std::vector<FaqEntry> entries);
  ~FaqRetriever();
  FaqRetriever(const FaqRetriever&) = delete;
  FaqRetriever& operator=(const FaqRetriever&) = delete;

  // The top `k` entries for a question, best first (pointers into entries()).
  Result<std::vector<const FaqEntry*>> search(std::string_view question,
                                              int k = kRetrieveTopK) const;

  // The same, with each entry's bm25 score.
  Result<std::vector<ScoredEntry>> search_scored(std::string_view question,
                                                 int k = kRetrieveTopK) const;

  // The query terms search() scores: query_terms(question), spelling-corrected, no repeats.
  Result<std::vector<std::string>> search_terms(std::string_view question) const;

  const std::vector<FaqEntry>& entries() const { return entries_; }
  const FaqEntry* find(std::string_view id) const;

 private:
  FaqRetriever() = default;
  Result<bool> matches_anything(const std::string& term) const;
  struct RowScore {
    double score = 0;
    int matched = 0;  // distinct query terms the entry matches
  };
  Status add_term_scores(const std::string& term, double weight, bool count,
                         std::map<int64_t, RowScore>* rows) const;

  std::vector<FaqEntry> entries_;
  std::unique_ptr<SpellingVocabulary> vocabulary_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* query_ = nullptr;  // the entries one term matches, with their bm25
  sqlite3_stmt* probe_ = nullptr;  // does one term match any entry
};

}  // namespace stemma::faqbot
