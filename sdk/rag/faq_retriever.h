// FaqRetriever: retrieval over FAQ entries with a fixed, documented ranking, so that a model
// can be trained on exactly the context blocks it returns (context_message.h). The shipped FAQ
// model was trained with it (tools/train/faq_format.py, Retriever):
//
//   CREATE VIRTUAL TABLE faq USING fts5(id UNINDEXED, title, question, answer, tags,
//                                       tokenize = 'porter unicode61');   -- rows in FAQ order
//   SELECT id FROM faq WHERE faq MATCH ?1
//   ORDER BY bm25(faq, 0.0, 2.0, 2.0, 1.0, 1.0), rowid LIMIT 5;
//
// The MATCH string ORs the question's query terms, each spelling-corrected (spelling.h) when it
// is at least kMinCorrectedLength characters, not all digits, and matches no entry.
//
// It is not RagStore (rag_store.h) on purpose: RagStore's table (title, heading, body), its
// stop-word list and its fallback for all-stop-word questions are a general RAG design that may
// improve, while this column set, these weights and this query construction are a trained
// model's contract, which must not drift when the general store does.
//
// The index is an in-memory SQLite database (rebuilt from the entries in a few milliseconds).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "sdk/rag/faq_entry.h"
#include "sdk/rag/spelling.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stemma::rag {

inline constexpr int kRetrieveTopK = 5;

// The query terms of a question: lower-cased, every [a-z0-9]+ in order, minus stop words and
// repeats (Python's str.lower() semantics for the few non-ASCII letters that lower to ASCII).
std::vector<std::string> query_terms(std::string_view question);
// `"t1" OR "t2" ...`; "" when there are no terms (then nothing is retrieved).
std::string match_expression(const std::vector<std::string>& terms);
bool is_query_stop_word(std::string_view lowercase_word);

struct ScoredEntry {
  const FaqEntry* entry = nullptr;
  double bm25 = 0;  // SQLite's bm25() with the weights above: lower is a better match (< 0)
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

  // The terms search() ORs: query_terms(question), spelling-corrected, without repeats.
  Result<std::vector<std::string>> search_terms(std::string_view question) const;

  const std::vector<FaqEntry>& entries() const { return entries_; }
  const FaqEntry* find(std::string_view id) const;

 private:
  FaqRetriever() = default;
  Result<bool> matches_anything(const std::string& term) const;

  std::vector<FaqEntry> entries_;
  std::unique_ptr<SpellingVocabulary> vocabulary_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* query_ = nullptr;
  sqlite3_stmt* probe_ = nullptr;  // does one term match any entry
};

}  // namespace stemma::rag
