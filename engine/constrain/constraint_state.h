// One request's position in a compiled constraint: what the sampler asks each step (which
// tokens are allowed, may we stop) and what it reports back (the token it chose). Keeps the
// state after every accepted token so jump-forward can roll back re-tokenized tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/status.h"
#include "engine/constrain/compiled_constraint.h"

namespace stemma::constrain {

class ConstraintState {
 public:
  explicit ConstraintState(std::shared_ptr<const CompiledConstraint> constraint);

  // Fills `mask` (resized to the vocabulary) with the tokens allowed now; after EOS, none.
  void allowed_tokens(TokenMask* mask) const;
  // The cached mask of the current state, without a copy (nullptr once finished by EOS).
  const TokenMask* current_mask() const;
  bool is_allowed(int32_t token) const;

  // Advances by one sampled token. Fails (state unchanged) if the token is not allowed.
  Status accept_token(int32_t token);
  // Undoes the last `n` accepted tokens (EOS included).
  Status rollback(size_t n);

  // EOS may be sampled now (the text so far is a complete match).
  bool can_end() const;
  // Nothing more can be generated: EOS was accepted, or the match is complete and no byte can
  // extend it.
  bool is_finished() const;
  // The bytes the automaton forces from here (the only continuation), cut at the last complete
  // UTF-8 character; empty when the next byte is a real choice.
  std::string jump_forward_bytes() const;

  size_t num_tokens() const { return states_.size() - 1; }
  int32_t dfa_state() const { return states_.back(); }
  const CompiledConstraint& constraint() const { return *constraint_; }

 private:
  static constexpr int32_t kEnded = -2;  // the state after EOS
  std::shared_ptr<const CompiledConstraint> constraint_;
  std::vector<int32_t> states_;  // states_[i] = DFA state after i tokens
};

}  // namespace stemma::constrain
