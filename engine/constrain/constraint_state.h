// One request's position in a compiled constraint: what the sampler asks each step (which
// tokens are allowed, may we stop) and what it reports back (the token it chose). Keeps the
// position after every accepted token so jump-forward can roll back re-tokenized tokens.
// Works for both kinds of CompiledConstraint: a DFA state, or a pushdown matcher (grammar).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/pushdown.h"

namespace stemma::constrain {

class ConstraintState {
 public:
  explicit ConstraintState(std::shared_ptr<const CompiledConstraint> constraint);

  // Fills `mask` (resized to the vocabulary) with the tokens allowed now; after EOS, none.
  void allowed_tokens(TokenMask* mask) const;
  // The mask of the current position, without a copy (nullptr once finished by EOS). For a
  // DFA it is the constraint's cached mask; for a grammar it is built here (context-free
  // parts cached in the constraint) and stays valid until this state next changes.
  const TokenMask* current_mask() const;
  bool is_allowed(int32_t token) const;

  // Advances by one sampled token. Fails (state unchanged) if the token is not allowed; for a
  // grammar also (ResourceExhausted) if it needs a stack deeper than max_stack_depth.
  Status accept_token(int32_t token);
  // Undoes the last `n` accepted tokens (EOS included).
  Status rollback(size_t n);

  // EOS may be sampled now (the text so far is a complete match).
  bool can_end() const;
  // Nothing more can be generated: EOS was accepted, or the match is complete and no byte can
  // extend it.
  bool is_finished() const;
  // The bytes the automaton forces from here (the only continuation), cut at the last complete
  // UTF-8 character; empty when the next byte is a real choice. For a grammar this is exact
  // through every stack (pops included).
  std::string jump_forward_bytes() const;

  // Fewest bytes that complete the output from here (0 when it may end; 0 after EOS).
  int64_t bytes_to_end() const;
  // The same after `token`, or -1 when `token` is not allowed (EOS: 0 where allowed).
  int64_t bytes_to_end_after(int32_t token) const;

  size_t num_tokens() const { return states_.size() - 1; }
  // DFA constraints: the DFA state (-2 after EOS); grammar constraints: -1 (-2 after EOS).
  int32_t dfa_state() const { return states_.back(); }
  // Grammar constraints: the deepest stack now (frames); 0 for a DFA.
  int32_t stack_depth() const;
  const CompiledConstraint& constraint() const { return *constraint_; }

 private:
  static constexpr int32_t kEnded = -2;  // the state after EOS
  static constexpr int32_t kGrammar = -1;
  bool ended() const { return states_.back() == kEnded; }

  std::shared_ptr<const CompiledConstraint> constraint_;
  std::vector<int32_t> states_;  // states_[i] = DFA state (or kGrammar) after i tokens
  // Grammar constraints: the pushdown position (one step per token, EOS excluded) and the
  // mask of the position it was built for. Mutable: queries fill caches.
  mutable std::optional<PushdownMatcher> pda_;
  mutable TokenMask mask_;
  mutable size_t mask_for_ = SIZE_MAX;  // num_tokens() when mask_ was built
};

}  // namespace stemma::constrain
