#include "demos/faq-bot/faq_retriever.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <map>

namespace stemma::faqbot {
namespace {

// faq_format.STOPWORDS (docs/demo-model.md), sorted for binary search.
constexpr std::string_view kStopWords[] = {
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

// faq_format.QUERY_SYNONYM_GROUPS (a frozen copy of faq_augment.SYNONYM_GROUPS).
const std::vector<std::vector<std::string_view>>& synonym_groups() {
  static const std::vector<std::vector<std::string_view>> groups = {
      {"how do i", "how can i", "how to", "what's the way to", "how would i"},
      {"fix", "repair", "sort out", "solve"},
      {"broken", "not working", "busted", "dead"},
      {"set up", "install", "configure"},
      {"turn on", "switch on", "enable", "activate"},
      {"turn off", "switch off", "disable", "deactivate"},
      {"phone", "smartphone", "mobile"},
      {"wifi", "wi-fi", "wireless", "internet"},
      {"delete", "remove", "erase", "get rid of"},
      {"want to", "would like to", "need to", "wish to"},
      {"can't", "cannot", "can not", "am unable to"},
      {"won't", "will not", "doesn't", "refuses to"},
      {"doesn't", "does not"},
      {"isn't", "is not"},
      {"get", "receive", "obtain"},
      {"buy", "purchase"},
      {"see", "view", "watch", "check"},
      {"video", "footage", "recording"},
      {"videos", "footage", "recordings", "clips"},
      {"password", "passcode", "pass word"},
      {"family", "household", "relatives"},
      {"update", "upgrade"},
      {"firmware", "software"},
      {"blinking", "flashing", "flickering"},
      {"color", "colour"},
      {"alerts", "notifications", "warnings"},
      {"alert", "notification", "warning"},
      {"house", "home", "place", "apartment"},
      {"outside", "outdoors"},
      {"long", "much time"},
      {"big", "large"},
      {"new", "brand new"},
      {"start", "begin"},
      {"stop", "quit", "cease"},
      {"help", "assist"},
      {"work", "function", "operate"},
      {"works", "functions", "operates"},
      {"use", "utilize"},
      {"change", "modify", "switch"},
      {"replace", "swap", "change"},
      {"charge", "recharge", "power up"},
      {"return", "send back"},
      {"quickly", "fast", "quick"},
      {"router", "modem"},
      {"cost", "price"},
      {"problem", "issue", "trouble"},
      {"device", "gadget", "unit"},
      {"show", "display"},
      {"keep", "hold"},
      {"move", "relocate"},
      {"connect", "link", "hook up"},
      {"guarantee", "warranty"},
      {"is", "seems"},
  };
  return groups;
}

// Each phrase (as words) -> its synonyms (as words), in group order without repeats
// (faq_format._synonym_table).
struct SynonymTable {
  std::map<std::vector<std::string>, std::vector<std::vector<std::string>>> synonyms;
  size_t max_words = 0;
};

const SynonymTable& synonym_table() {
  static const SynonymTable table = [] {
    SynonymTable t;
    for (const auto& group : synonym_groups()) {
      for (std::string_view phrase : group) {
        const std::vector<std::string> key = query_words(phrase);
        auto& syns = t.synonyms[key];
        t.max_words = std::max(t.max_words, key.size());
        for (std::string_view other : group) {
          std::vector<std::string> o = query_words(other);
          if (other != phrase && std::find(syns.begin(), syns.end(), o) == syns.end()) {
            syns.push_back(std::move(o));
          }
        }
      }
    }
    return t;
  }();
  return table;
}

Status sqlite_error(sqlite3* db, const std::string& doing) {
  return Internal("FAQ index: " + doing + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

bool is_query_stop_word(std::string_view w) {
  return std::binary_search(std::begin(kStopWords), std::end(kStopWords), w);
}

std::vector<std::string> query_words(std::string_view question) {
  // Lower-case the way Python does for the letters that can end up in [a-z0-9]: ASCII A-Z, and
  // U+0130 (capital I with dot, lowers to "i" + combining dot) and U+212A (Kelvin sign -> "k").
  // Every other character only separates words here.
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(word);
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
  return words;
}

std::vector<std::string> query_terms(std::string_view question) {
  std::vector<std::string> terms;
  for (std::string& w : query_words(question)) {
    if (!is_query_stop_word(w) && std::find(terms.begin(), terms.end(), w) == terms.end()) {
      terms.push_back(std::move(w));
    }
  }
  return terms;
}

std::vector<std::string> synonym_terms(std::string_view question,
                                       const std::vector<std::string>& terms) {
  const SynonymTable& table = synonym_table();
  const std::vector<std::string> ws = query_words(question);
  std::vector<std::string> out;
  size_t i = 0;
  while (i < ws.size()) {
    size_t n = std::min(table.max_words, ws.size() - i);
    const std::vector<std::vector<std::string>>* syns = nullptr;
    for (; n > 0; --n) {
      auto it = table.synonyms.find(std::vector<std::string>(
          ws.begin() + static_cast<ptrdiff_t>(i), ws.begin() + static_cast<ptrdiff_t>(i + n)));
      if (it != table.synonyms.end()) {
        syns = &it->second;
        break;
      }
    }
    if (syns == nullptr) {
      ++i;
      continue;
    }
    for (const auto& syn : *syns) {
      for (const std::string& w : syn) {
        if (!is_query_stop_word(w) && std::find(terms.begin(), terms.end(), w) == terms.end() &&
            std::find(out.begin(), out.end(), w) == out.end()) {
          out.push_back(w);
        }
      }
    }
    i += n;
  }
  return out;
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
                         "SELECT rowid, bm25(faq, 0.0, 2.0, 2.0, 1.0, 1.0) FROM faq "
                         "WHERE faq MATCH ?1",
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

Status FaqRetriever::add_term_scores(const std::string& term, double weight, bool count,
                                     std::map<int64_t, RowScore>* rows) const {
  const std::string match = match_expression({term});
  sqlite3_reset(query_);
  sqlite3_bind_text(query_, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
  while (true) {
    const int rc = sqlite3_step(query_);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Status s = sqlite_error(db_, "search '" + match + "'");
      sqlite3_reset(query_);
      return s;
    }
    RowScore& r = (*rows)[sqlite3_column_int64(query_, 0)];
    r.score += weight * sqlite3_column_double(query_, 1);
    if (count) ++r.matched;
  }
  sqlite3_reset(query_);
  return OkStatus();
}

Result<std::vector<ScoredEntry>> FaqRetriever::search_scored(std::string_view question,
                                                             int k) const {
  std::vector<ScoredEntry> out;
  STEMMA_ASSIGN_OR_RETURN(std::vector<std::string> terms, search_terms(question));
  if (terms.empty() || k <= 0) return out;
  // Scores are summed in term order, query terms first, as faq_format.Retriever does.
  std::map<int64_t, RowScore> rows;
  for (const std::string& t : terms) {
    STEMMA_RETURN_IF_ERROR(add_term_scores(t, 1.0, true, &rows));
  }
  for (const std::string& t : synonym_terms(question, terms)) {
    STEMMA_RETURN_IF_ERROR(add_term_scores(t, kSynonymWeight, false, &rows));
  }
  std::vector<std::pair<int64_t, RowScore>> ranked(rows.begin(), rows.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second.matched != b.second.matched) return a.second.matched > b.second.matched;
    if (a.second.score != b.second.score) return a.second.score < b.second.score;
    return a.first < b.first;
  });
  for (const auto& [rowid, r] : ranked) {
    if (static_cast<int>(out.size()) >= k) break;
    if (rowid < 1 || rowid > static_cast<int64_t>(entries_.size())) {
      return Internal("FAQ index returned an unknown row");
    }
    out.push_back({&entries_[static_cast<size_t>(rowid - 1)], r.score});
  }
  return out;
}

}  // namespace stemma::faqbot
