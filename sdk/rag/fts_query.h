// Turning a user's question into a safe FTS5 MATCH expression.
//
// FTS5 has its own query syntax: quotes, parentheses, '-', '*', ':', '^', and the bare words AND,
// OR, NOT, NEAR all mean something, so passing a question like `What's the "reset" button (5 s)?`
// straight to MATCH is a syntax error, or worse, a different query. Instead the question is cut
// into plain terms (letters and digits; other punctuation separates), lower-cased, optionally
// stripped of English stop words, de-duplicated, and each term is written as a quoted string;
// the terms are joined with OR so a chunk matching any term is a candidate and BM25 ranks those
// matching more (and rarer) terms higher. The porter tokenizer on both sides stems the terms.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stemma::rag {

struct QueryTermOptions {
  bool remove_stop_words = true;
  bool prefix_match = false;  // "term"* : also match words that start with the term
  size_t max_terms = 32;
};

// The question's search terms, in first-seen order. When every term is a stop word ("what is
// it?") the stop words are kept, so a question never silently becomes empty.
std::vector<std::string> query_terms(std::string_view question, const QueryTermOptions& options);

// `"t1" OR "t2" ...` (with '*' after each when prefix_match); "" when there are no terms.
std::string match_expression(const std::vector<std::string>& terms, bool prefix_match);

bool is_stop_word(std::string_view lowercase_term);

}  // namespace stemma::rag
