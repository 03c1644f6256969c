// Query sanitizing: terms, stop words, and — checked by SQLite itself — that every expression we
// build is accepted by FTS5 whatever bytes the question held.
#include "sdk/rag/fts_query.h"

#include <sqlite3.h>

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace stemma::rag {
namespace {

using Terms = std::vector<std::string>;

TEST_CASE("query terms: punctuation separates, case folds, stop words go, order stays") {
  QueryTermOptions options;
  CHECK(query_terms("What's the \"reset\" button (5 s)?!", options) ==
        Terms{"reset", "button", "5"});
  CHECK(query_terms("Wi-Fi: 2.4GHz vs. 5GHz", options) ==
        Terms{"wi", "fi", "2", "4ghz", "vs", "5ghz"});
  CHECK(query_terms("RESET reset Reset", options) == Terms{"reset"});
  options.remove_stop_words = false;
  CHECK(query_terms("How do I reset?", options) == Terms{"how", "do", "i", "reset"});
}

TEST_CASE("query terms: an all-stop-word question keeps its words") {
  CHECK(query_terms("What is it?", QueryTermOptions{}) == Terms{"what", "is", "it"});
  CHECK(query_terms("?!... ---", QueryTermOptions{}).empty());
  CHECK(query_terms("", QueryTermOptions{}).empty());
}

TEST_CASE("query terms: non-ASCII letters stay in words, Unicode punctuation separates") {
  CHECK(query_terms("¿Cómo reinicio el router?", QueryTermOptions{}) ==
        Terms{"cómo", "reinicio", "el", "router"});
  CHECK(query_terms("won\xE2\x80\x99t \xE2\x80\x9Cwork\xE2\x80\x9D \xF0\x9F\x98\xA1",
                    QueryTermOptions{}) == Terms{"won", "work"});
  CHECK(query_terms("bad \xFF\xFE bytes", QueryTermOptions{}) == Terms{"bad", "bytes"});
}

TEST_CASE("query terms: at most max_terms") {
  std::string question;
  for (int i = 0; i < 100; ++i) question += "word" + std::to_string(i) + " ";
  QueryTermOptions options;
  options.max_terms = 7;
  CHECK(query_terms(question, options).size() == 7);
}

TEST_CASE("match expression: quoted terms joined by OR") {
  CHECK(match_expression({"reset", "button"}, false) == "\"reset\" OR \"button\"");
  CHECK(match_expression({"reset"}, true) == "\"reset\"*");
  CHECK(match_expression({}, false).empty());
  CHECK(match_expression({"a\"b"}, false) == "\"a\"\"b\"");
}

// Runs `expression` as a MATCH against a porter-tokenized FTS5 table; returns SQLite's verdict.
class FtsProbe {
 public:
  FtsProbe() {
    REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db_,
                         "CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='porter unicode61 "
                         "remove_diacritics 2');"
                         "INSERT INTO t VALUES('reset the router', 'AND OR NOT NEAR');",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_prepare_v2(db_, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &stmt_,
                               nullptr) == SQLITE_OK);
  }
  ~FtsProbe() {
    sqlite3_finalize(stmt_);
    sqlite3_close(db_);
  }
  // SQLITE_ROW when the query ran.
  int run(const std::string& expression) {
    sqlite3_reset(stmt_);
    sqlite3_bind_text(stmt_, 1, expression.c_str(), static_cast<int>(expression.size()),
                      SQLITE_TRANSIENT);
    return sqlite3_step(stmt_);
  }
  int64_t count() { return sqlite3_column_int64(stmt_, 0); }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

TEST_CASE("match expression: FTS5 accepts every expression built from hostile questions") {
  FtsProbe probe;
  // The raw questions themselves are FTS5 syntax errors (the reason sanitizing exists).
  CHECK(probe.run("What's the \"reset") != SQLITE_ROW);
  CHECK(probe.run("reset AND (") != SQLITE_ROW);
  const std::vector<std::string> hostile = {"What's the \"reset\" button?",
                                            "\"",
                                            "\"\"\"\"",
                                            "'",
                                            "(",
                                            ")",
                                            "*",
                                            "AND",
                                            "OR NOT",
                                            "NEAR(a b)",
                                            "title:reset",
                                            "^start",
                                            "a - b",
                                            "-reset",
                                            "+",
                                            "{}[]",
                                            "\\",
                                            "a:b:c",
                                            "'; DROP TABLE t; --",
                                            "reset*",
                                            "\"reset\"*",
                                            "AND OR NOT NEAR",
                                            "x AND",
                                            "OR",
                                            "\xF0\x9F\x98\xA1\xF0\x9F\x98\xA1",
                                            "\xFF\xFE\xFD",
                                            "a\0b"};
  for (bool prefix : {false, true}) {
    for (bool stop : {false, true}) {
      QueryTermOptions options;
      options.prefix_match = prefix;
      options.remove_stop_words = stop;
      for (const std::string& q : hostile) {
        std::string expr = match_expression(query_terms(q, options), prefix);
        if (expr.empty()) continue;
        CHECK_MESSAGE(probe.run(expr) == SQLITE_ROW, q, " -> ", expr);
      }
    }
  }
  // Keywords are matched as plain words once quoted.
  REQUIRE(probe.run(match_expression(query_terms("AND OR NOT NEAR", QueryTermOptions{}), false)) ==
          SQLITE_ROW);
  CHECK(probe.count() == 1);
}

TEST_CASE("match expression: random byte soup never makes an FTS5 syntax error") {
  FtsProbe probe;
  std::mt19937 rng(20261123);
  const std::string alphabet =
      "abcXYZ019 \t\n\"'()*:^-+{}[],.;!?\\/#@&|~`<>=%$\xC3\xA9\xE2\x80\x9C\xF0\x9F\x98\xA1\xFF";
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 40);
  int ran = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string q;
    int n = length(rng);
    for (int k = 0; k < n; ++k) q.push_back(alphabet[pick(rng)]);
    QueryTermOptions options;
    options.prefix_match = (i % 2) == 1;
    std::string expr = match_expression(query_terms(q, options), options.prefix_match);
    if (expr.empty()) continue;
    ++ran;
    REQUIRE_MESSAGE(probe.run(expr) == SQLITE_ROW, expr);
  }
  CHECK(ran > 2000);
}

}  // namespace
}  // namespace stemma::rag
