// A grammar for constrained decoding: rules (nonterminals), each a byte automaton whose edges
// are bytes or calls of rules (a context-free grammar whose right-hand sides are regexes). A
// rule body is a regex in which `(?&k)` calls rule k; compile_grammar turns every body into a
// minimal DFA with one extra column per called rule, so the pushdown executor (pushdown.h) runs
// one DFA per stack frame and pushes a frame for a call.
//
// What a compiled grammar guarantees: every rule matches something (calls of rules that match
// nothing are cut), every state of every rule can still reach the end of its rule, and no rule
// calls itself before reading a byte (left recursion is refused), so the executor never
// loops and every live stack can finish.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/dfa.h"

namespace stemma::constrain {

struct GrammarSource {
  std::string root;                // the start: a regex that may call rules with (?&k)
  std::vector<std::string> rules;  // rule k's body (a regex; may call any rule, itself too)
  std::vector<std::string> names;  // optional names for messages (empty, or one per rule)
};

struct GrammarOptions {
  DfaOptions dfa;                       // limits per rule automaton
  size_t max_total_states = 1'000'000;  // all rules together
  // Deepest stack (frames) the executor builds; a longer one is an error reported by the
  // matcher (ResourceExhausted), never a silent cut.
  int32_t max_stack_depth = 10'000;
};

class Grammar {
 public:
  struct Call {
    int32_t rule;    // the rule called
    int32_t target;  // the caller's state once the called rule has matched
  };

  int32_t num_rules() const { return static_cast<int32_t>(rules_.size()); }
  // The start rule (the source's root, numbered after the source's rules).
  int32_t root() const { return root_; }
  const Dfa& rule(int32_t r) const { return rules_[static_cast<size_t>(r)]; }
  const std::string& name(int32_t r) const { return names_[static_cast<size_t>(r)]; }
  // The live calls out of `state` of rule r.
  std::span<const Call> calls(int32_t r, int32_t state) const {
    const auto& b = call_begin_[static_cast<size_t>(r)];
    const auto& c = calls_[static_cast<size_t>(r)];
    return {c.data() + b[static_cast<size_t>(state)],
            static_cast<size_t>(b[static_cast<size_t>(state) + 1] - b[static_cast<size_t>(state)])};
  }
  bool has_calls(int32_t r, int32_t state) const {
    const auto& b = call_begin_[static_cast<size_t>(r)];
    return b[static_cast<size_t>(state) + 1] != b[static_cast<size_t>(state)];
  }
  // Fewest bytes from `state` of rule r to the end of rule r (a call costs the shortest match
  // of the called rule).
  int32_t bytes_to_accept(int32_t r, int32_t state) const {
    return dist_[static_cast<size_t>(r)][static_cast<size_t>(state)];
  }
  int32_t min_length(int32_t r) const { return bytes_to_accept(r, rule(r).start); }
  // States of all rules together, and the first global number of rule r's states.
  int32_t total_states() const { return state_offset_.back(); }
  int32_t state_offset(int32_t r) const { return state_offset_[static_cast<size_t>(r)]; }
  int32_t max_stack_depth() const { return max_stack_depth_; }

 private:
  friend Result<Grammar> compile_grammar(const GrammarSource&, const GrammarOptions&);
  void index_calls();
  void compute_distances();

  std::vector<Dfa> rules_;
  std::vector<std::string> names_;
  int32_t root_ = 0;
  std::vector<std::vector<int32_t>> call_begin_;  // per rule: CSR offsets per state
  std::vector<std::vector<Call>> calls_;
  std::vector<std::vector<int32_t>> dist_;
  std::vector<int32_t> state_offset_;
  int32_t max_stack_depth_ = 10'000;
};

// Compiles every rule, cuts calls of rules that match nothing, and refuses left recursion and
// a start that matches nothing. Errors name the rule.
Result<Grammar> compile_grammar(const GrammarSource& source, const GrammarOptions& options = {});

}  // namespace stemma::constrain
