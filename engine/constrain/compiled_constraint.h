// A constraint compiled for one vocabulary. Two kinds behind one interface:
//  - a byte DFA (regexes, choices, JSON Schemas without $ref cycles), with a per-state cache
//    of token masks;
//  - a grammar (JSON Schemas with $ref cycles, or any GrammarSource) run by a pushdown
//    executor, with a per-frame-state cache of FrameTokens (context-independent tokens plus
//    the context-dependent subtrees, grammar_masks.h).
// Immutable after construction except for the caches, which are filled lazily under a lock,
// so one compiled constraint can serve many requests (and threads) at once. ConstraintState
// is the per-request position for either kind.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/dfa.h"
#include "engine/constrain/grammar.h"
#include "engine/constrain/grammar_masks.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/token_mask.h"
#include "engine/constrain/vocabulary.h"

namespace stemma::constrain {

class CompiledConstraint {
 public:
  CompiledConstraint(Dfa dfa, std::shared_ptr<const TokenIndex> index);
  CompiledConstraint(Grammar grammar, std::shared_ptr<const TokenIndex> index);

  static Result<std::shared_ptr<const CompiledConstraint>> from_regex(
      std::string_view regex, std::shared_ptr<const TokenIndex> index);
  // A DFA when the schema has no $ref cycle, else a grammar (JsonSchemaOptions::recursion).
  // Fails with Unsupported naming every keyword it cannot enforce.
  static Result<std::shared_ptr<const CompiledConstraint>> from_json_schema(
      std::string_view schema_json, std::shared_ptr<const TokenIndex> index,
      const JsonSchemaOptions& options = {});
  // One of the literal strings (select).
  static Result<std::shared_ptr<const CompiledConstraint>> from_choices(
      const std::vector<std::string>& choices, std::shared_ptr<const TokenIndex> index);
  // A grammar: regexes whose (?&k) call rule k (grammar.h).
  static Result<std::shared_ptr<const CompiledConstraint>> from_grammar(
      const GrammarSource& source, std::shared_ptr<const TokenIndex> index,
      const GrammarOptions& options = {});

  bool is_grammar() const { return grammar_.has_value(); }
  // The grammar, or nullptr for a DFA constraint.
  const Grammar* grammar() const { return grammar_ ? &*grammar_ : nullptr; }
  // The DFA; for a grammar, its start rule's automaton (whose call columns the byte-level
  // helpers below ignore: use ConstraintState, which handles both kinds).
  const Dfa& dfa() const { return grammar_ ? grammar_->rule(grammar_->root()) : dfa_; }
  // Automaton states: the DFA's, or all grammar rules' together.
  int32_t num_states() const { return grammar_ ? grammar_->total_states() : dfa_.num_states(); }
  const TokenIndex& index() const { return *index_; }
  int32_t vocab_size() const { return index_->size(); }

  // DFA constraints only. Tokens allowed in DFA `state` (EOS ids included iff the state
  // accepts). Computed on first use by walking the vocabulary trie through the DFA, then
  // cached. The reference stays valid for the lifetime of this object.
  const TokenMask& mask(int32_t state) const;
  // DFA constraints only: whether `token` can follow in `state`, without building the mask.
  bool token_allowed(int32_t state, int32_t token) const;
  // DFA constraints only: DFA state after `token`'s bytes, or Dfa::kDead.
  int32_t next_state(int32_t state, int32_t token) const;
  // DFA constraints only: fewest bytes from `state` to an accepting state (computed once).
  int32_t bytes_to_accept(int32_t state) const;

  // Grammar constraints only: the token classes of frame state (rule, state), computed on
  // first use and cached; the reference stays valid for the lifetime of this object.
  const FrameTokens& frame_tokens(int32_t rule, int32_t state) const;

  // Cached DFA masks, or cached grammar frame classes.
  size_t cached_masks() const;
  void precompute_all_masks() const;

 private:
  void compute_mask(int32_t state, TokenMask* out) const;

  Dfa dfa_;
  std::optional<Grammar> grammar_;
  std::shared_ptr<const TokenIndex> index_;
  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<TokenMask>> masks_;
  mutable std::vector<std::unique_ptr<FrameTokens>> frames_;
  mutable size_t cached_ = 0;
  mutable std::once_flag dist_once_;
  mutable std::vector<int32_t> dist_;
};

}  // namespace stemma::constrain
