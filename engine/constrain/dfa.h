// A deterministic automaton over bytes, built from a RegexAst: Thompson NFA over UTF-8 byte
// ranges, subset construction, removal of states that cannot reach acceptance (so every live
// transition can still finish), then Moore minimisation. The automaton is what token masks and
// jump-forward walk; re2 cannot hand us its own, so this is ours.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/regex_ast.h"

namespace stemma::constrain {

struct Dfa {
  static constexpr int32_t kDead = -1;
  int32_t start = 0;
  std::vector<uint8_t> accepting;  // per state
  // Bytes that every state treats alike share a class; tables are [state * num_classes + class].
  std::array<uint8_t, 256> byte_class{};
  int32_t num_classes = 1;
  std::vector<int32_t> next;  // -> state or kDead
  // Grammar rule automata only (empty for a plain regex): the last call_rules.size() columns of
  // `next` are calls of those rules, in that order; the target is the state to continue in once
  // the called rule has matched. Byte steps never look at them.
  std::vector<int32_t> call_rules;

  int32_t num_states() const { return static_cast<int32_t>(accepting.size()); }
  int32_t first_call_column() const {
    return num_classes - static_cast<int32_t>(call_rules.size());
  }
  // Where `state` continues after a call of call_rules[i], or kDead.
  int32_t call_target(int32_t state, size_t i) const {
    return next[static_cast<size_t>(state) * num_classes + first_call_column() +
                static_cast<int32_t>(i)];
  }
  int32_t step(int32_t state, uint8_t byte) const {
    return next[static_cast<size_t>(state) * num_classes + byte_class[byte]];
  }
  bool is_accepting(int32_t state) const { return accepting[state] != 0; }
  // Follows `bytes` from `state`; kDead when some byte has no transition.
  int32_t walk(int32_t state, std::string_view bytes) const;
  bool matches(std::string_view bytes) const;
  // True when the language is empty (the start state has no way to accept; a rule automaton
  // with a call out of its start counts as non-empty).
  bool empty_language() const;
  // Number of live outgoing bytes from `state`, and the single one when there is exactly one.
  int out_degree(int32_t state, uint8_t* only_byte) const;
};

struct DfaOptions {
  size_t max_nfa_states = 2'000'000;
  size_t max_dfa_states = 200'000;
  bool minimize = true;
};

Result<Dfa> build_dfa(const RegexAst& ast, const DfaOptions& options = {});
Result<Dfa> compile_regex(std::string_view pattern, const RegexParseOptions& parse_options = {},
                          const DfaOptions& options = {});

// Drops states that cannot reach acceptance (renumbering from the start) and, with `minimize`,
// merges equivalent ones. build_dfa ends with this; grammars re-run it after cutting calls of
// rules that match nothing.
Dfa prune_and_minimize(const Dfa& dfa, bool minimize = true);

// True when no byte string is accepted by both (product construction).
bool dfa_languages_disjoint(const Dfa& a, const Dfa& b);

}  // namespace stemma::constrain
