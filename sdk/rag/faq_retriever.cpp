#include "sdk/rag/faq_retriever.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>

namespace stemma::rag {
namespace {

// faq_format.STOPWORDS (docs/demo-model.md), sorted for binary search.
constexpr std::string_view kFaqStopWords[] = {
    "a",      "about", "an",   "and",    "are",  "as",    "at",    "be",     "by",
    "can",    "could", "d",    "do",     "does", "for",   "from",  "has",    "have",
    "hello",  "hey",   "hi",   "how",    "i",    "if",    "in",    "is",     "it",
    "its",    "ll",    "m",    "me",     "my",   "of",    "on",    "or",     "our",
    "please", "re",    "s",    "should", "so",   "t",     "thank", "thanks", "that",
    "the",    "there", "this", "to",     "ve",   "was",   "what",  "when",   "where",
    "which",  "who",   "why",  "will",   "with", "would", "you",   "your",
};

// Decodes one UTF-8 sequence at `i` (advancing it); malformed bytes come back as U+FFFD.
uint32_t next_codepoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[(*i)++]);
  if (b0 < 0x80) return b0;
  int len = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : b0 >= 0xC0 ? 1 : -1;
  if (len < 0) return 0xFFFD;
  uint32_t cp = b0 & (0x3F >> len);
  for (int k = 0; k < len; ++k) {
    if (*i >= s.size() || (static_cast<unsigned char>(s[*i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[(*i)++]) & 0x3F);
  }
  return cp;
}

Status sqlite_error(sqlite3* db, const std::string& doing) {
  return Internal("FAQ index: " + doing + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

bool is_query_stop_word(std::string_view w) {
  return std::binary_search(std::begin(kFaqStopWords), std::end(kFaqStopWords), w);
}

std::vector<std::string> query_terms(std::string_view question) {
  // Lower-case the way Python does for the letters that can end up in [a-z0-9]: ASCII A-Z, and
  // U+0130 (capital I with dot, lowers to "i" + combining dot) and U+212A (Kelvin sign -> "k").
  // Every other character only separates words here.
  std::vector<std::string> terms;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && !is_query_stop_word(word) &&
        std::find(terms.begin(), terms.end(), word) == terms.end()) {
      terms.push_back(word);
    }
    word.clear();
  };
  size_t i = 0;
  while (i < question.size()) {
    const uint32_t cp = next_codepoint(question, &i);
    char c = 0;
    if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
      c = static_cast<char>(cp);
    } else if (cp >= 'A' && cp <= 'Z') {
      c = static_cast<char>(cp - 'A' + 'a');
    } else if (cp == 0x130) {
      word.push_back('i');
      flush();  // the combining dot that follows ends the word
      continue;
    } else if (cp == 0x212A) {
      c = 'k';
    }
    if (c != 0) {
      word.push_back(c);
    } else {
      flush();
    }
  }
  flush();
  return terms;
}

std::string match_expression(const std::vector<std::string>& terms) {
  std::string out;
  for (const auto& t : terms) {
    if (!out.empty()) out += " OR ";
    out += '"' + t + '"';  // terms are [a-z0-9]+: nothing to escape
  }
  return out;
}

Result<std::unique_ptr<FaqRetriever>> FaqRetriever::create(std::vector<FaqEntry> entries) {
  std::unique_ptr<FaqRetriever> r(new FaqRetriever());
  r->entries_ = std::move(entries);
  if (sqlite3_open(":memory:", &r->db_) != SQLITE_OK) return sqlite_error(r->db_, "open");
  char* err = nullptr;
  int rc = sqlite3_exec(r->db_,
                        "CREATE VIRTUAL TABLE faq USING fts5(id UNINDEXED, title, question, "
                        "answer, tags, tokenize = 'porter unicode61')",
                        nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Unsupported("FAQ index: cannot create the FTS5 table (" + msg +
                       "); this SQLite needs FTS5");
  }
  sqlite3_exec(r->db_, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(r->db_,
                         "INSERT INTO faq (id, title, question, answer, tags) "
                         "VALUES (?, ?, ?, ?, ?)",
                         -1, &ins, nullptr) != SQLITE_OK) {
    return sqlite_error(r->db_, "prepare insert");
  }
  for (const FaqEntry& e : r->entries_) {
    const std::string* cols[] = {&e.id, &e.title, &e.question, &e.answer, &e.tags};
    for (int c = 0; c < 5; ++c) {
      sqlite3_bind_text(ins, c + 1, cols[c]->data(), static_cast<int>(cols[c]->size()),
                        SQLITE_TRANSIENT);
    }
    if (sqlite3_step(ins) != SQLITE_DONE) {
      Status s = sqlite_error(r->db_, "insert " + e.id);
      sqlite3_finalize(ins);
      return s;
    }
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(r->db_, "COMMIT", nullptr, nullptr, nullptr);
  if (sqlite3_prepare_v2(r->db_,
                         "SELECT id, bm25(faq, 0.0, 2.0, 2.0, 1.0, 1.0) FROM faq "
                         "WHERE faq MATCH ?1 "
                         "ORDER BY bm25(faq, 0.0, 2.0, 2.0, 1.0, 1.0), rowid LIMIT ?2",
                         -1, &r->query_, nullptr) != SQLITE_OK) {
    return sqlite_error(r->db_, "prepare query");
  }
  if (sqlite3_prepare_v2(r->db_, "SELECT rowid FROM faq WHERE faq MATCH ?1 LIMIT 1", -1, &r->probe_,
                         nullptr) != SQLITE_OK) {
    return sqlite_error(r->db_, "prepare probe");
  }
  r->vocabulary_ = std::make_unique<SpellingVocabulary>(r->entries_);
  return r;
}

FaqRetriever::~FaqRetriever() {
  if (probe_ != nullptr) sqlite3_finalize(probe_);
  if (query_ != nullptr) sqlite3_finalize(query_);
  if (db_ != nullptr) sqlite3_close(db_);
}

const FaqEntry* FaqRetriever::find(std::string_view id) const {
  for (const FaqEntry& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

Result<bool> FaqRetriever::matches_anything(const std::string& term) const {
  const std::string match = match_expression({term});
  sqlite3_reset(probe_);
  sqlite3_bind_text(probe_, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(probe_);
  sqlite3_reset(probe_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "probe '" + match + "'");
}

Result<std::vector<std::string>> FaqRetriever::search_terms(std::string_view question) const {
  std::vector<std::string> out;
  for (std::string t : query_terms(question)) {
    const bool all_digits = t.find_first_not_of("0123456789") == std::string::npos;
    if (t.size() >= kMinCorrectedLength && !all_digits) {
      STEMMA_ASSIGN_OR_RETURN(bool known, matches_anything(t));
      if (!known) {
        if (auto fixed = vocabulary_->best_edit(t)) t = std::move(*fixed);
      }
    }
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<const FaqEntry*>> FaqRetriever::search(std::string_view question, int k) const {
  STEMMA_ASSIGN_OR_RETURN(std::vector<ScoredEntry> scored, search_scored(question, k));
  std::vector<const FaqEntry*> out;
  for (const ScoredEntry& s : scored) out.push_back(s.entry);
  return out;
}

Result<std::vector<ScoredEntry>> FaqRetriever::search_scored(std::string_view question,
                                                             int k) const {
  std::vector<ScoredEntry> out;
  STEMMA_ASSIGN_OR_RETURN(std::vector<std::string> terms, search_terms(question));
  const std::string match = match_expression(terms);
  if (match.empty() || k <= 0) return out;
  sqlite3_reset(query_);
  sqlite3_bind_text(query_, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(query_, 2, k);
  while (true) {
    const int rc = sqlite3_step(query_);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Status s = sqlite_error(db_, "search '" + match + "'");
      sqlite3_reset(query_);
      return s;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(query_, 0));
    const FaqEntry* e = find(text ? text : "");
    if (e == nullptr) {
      sqlite3_reset(query_);
      return Internal("FAQ index returned an unknown id");
    }
    out.push_back({e, sqlite3_column_double(query_, 1)});
  }
  sqlite3_reset(query_);
  return out;
}

}  // namespace stemma::rag
