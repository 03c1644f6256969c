// A deterministic automaton over bytes, built from a RegexAst: Thompson NFA over UTF-8 byte
// ranges, subset construction, removal of states that cannot reach acceptance (so every live
// transition can still finish), then Moore minimisation. The automaton is what token masks and
// jump-forward walk; re2 cannot hand us its own, so this is ours.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/common/status.h"
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

  int32_t num_states() const { return static_cast<int32_t>(accepting.size()); }
  int32_t step(int32_t state, uint8_t byte) const {
    return next[static_cast<size_t>(state) * num_classes + byte_class[byte]];
  }
  bool is_accepting(int32_t state) const { return accepting[state] != 0; }
  // Follows `bytes` from `state`; kDead when some byte has no transition.
  int32_t walk(int32_t state, std::string_view bytes) const;
  bool matches(std::string_view bytes) const;
  // True when the language is empty (the start state has no way to accept).
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

// True when no byte string is accepted by both (product construction).
bool dfa_languages_disjoint(const Dfa& a, const Dfa& b);

}  // namespace stemma::constrain
