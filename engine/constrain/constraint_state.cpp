#include "engine/constrain/constraint_state.h"

#include "engine/constrain/utf8.h"

namespace stemma::constrain {

ConstraintState::ConstraintState(std::shared_ptr<const CompiledConstraint> constraint)
    : constraint_(std::move(constraint)) {
  if (const Grammar* g = constraint_->grammar()) {
    pda_.emplace(g);
    states_.push_back(kGrammar);
  } else {
    states_.push_back(constraint_->dfa().start);
  }
}

void ConstraintState::allowed_tokens(TokenMask* mask) const {
  const TokenMask* m = current_mask();
  if (!m) {
    mask->resize(constraint_->vocab_size());
    return;
  }
  *mask = *m;
}

const TokenMask* ConstraintState::current_mask() const {
  if (ended()) return nullptr;
  if (!pda_) return &constraint_->mask(dfa_state());
  if (mask_for_ != num_tokens()) {
    const bool end = pda_->can_end();  // closes the configuration before the mask walks
    const CompiledConstraint& c = *constraint_;
    grammar_mask(
        pda_->exec(), pda_->config(), end, c.index(),
        [&c](int32_t rule, int32_t state) -> const FrameTokens& {
          return c.frame_tokens(rule, state);
        },
        &mask_);
    mask_for_ = num_tokens();
  }
  return &mask_;
}

bool ConstraintState::is_allowed(int32_t token) const {
  if (ended()) return false;
  if (!pda_) return constraint_->token_allowed(dfa_state(), token);
  return bytes_to_end_after(token) >= 0;
}

Status ConstraintState::accept_token(int32_t token) {
  if (ended()) {
    return FailedPrecondition("constraint: token " + std::to_string(token) +
                              " after the end of the constrained output");
  }
  if (token < 0 || token >= constraint_->vocab_size()) {
    return InvalidArgument("constraint: token id " + std::to_string(token) + " is out of range");
  }
  const TokenIndex& index = constraint_->index();
  if (index.is_eos(token)) {
    if (!can_end()) {
      return InvalidArgument("constraint: EOS token " + std::to_string(token) +
                             " before the output is complete");
    }
    states_.push_back(kEnded);
    return OkStatus();
  }
  const Vocabulary& v = index.vocab();
  if (pda_) {
    if (v.special[token] || v.tokens[token].empty()) {
      return InvalidArgument("constraint: token " + std::to_string(token) +
                             " has no text the grammar could allow");
    }
    Status s = pda_->accept_bytes(v.tokens[token]);
    if (!s.ok()) {
      if (s.code() == StatusCode::kResourceExhausted) return s;
      return InvalidArgument("constraint: token " + std::to_string(token) +
                             " is not allowed here (grammar, stack depth " +
                             std::to_string(pda_->depth()) + ")");
    }
    states_.push_back(kGrammar);
    return OkStatus();
  }
  const int32_t s = dfa_state();
  int32_t next = constraint_->next_state(s, token);
  if (next == Dfa::kDead) {
    return InvalidArgument("constraint: token " + std::to_string(token) +
                           " is not allowed here (DFA state " + std::to_string(s) + ")");
  }
  states_.push_back(next);
  return OkStatus();
}

Status ConstraintState::rollback(size_t n) {
  if (n > num_tokens()) {
    return OutOfRange("constraint: cannot roll back " + std::to_string(n) + " tokens, only " +
                      std::to_string(num_tokens()) + " accepted");
  }
  if (pda_) {
    size_t steps = 0;  // EOS took no pushdown step
    for (size_t i = 0; i < n; ++i) steps += states_[states_.size() - 1 - i] != kEnded;
    STEMMA_RETURN_IF_ERROR(pda_->rollback(steps));
    mask_for_ = SIZE_MAX;
  }
  states_.resize(states_.size() - n);
  return OkStatus();
}

bool ConstraintState::can_end() const {
  if (ended()) return false;
  if (pda_) return pda_->can_end();
  return constraint_->dfa().is_accepting(dfa_state());
}

bool ConstraintState::is_finished() const {
  if (ended()) return true;
  if (pda_) return pda_->can_end() && pda_->allowed_bytes().count() == 0;
  const int32_t s = dfa_state();
  return constraint_->dfa().is_accepting(s) && constraint_->dfa().out_degree(s, nullptr) == 0;
}

std::string ConstraintState::jump_forward_bytes() const {
  std::string out;
  if (ended()) return out;
  if (pda_) {
    out = pda_->forced_bytes(4096);
  } else {
    int32_t s = dfa_state();
    const Dfa& dfa = constraint_->dfa();
    // A byte is forced while the state cannot stop here and has one way on.
    while (!dfa.is_accepting(s) && out.size() < 4096) {
      uint8_t only = 0;
      if (dfa.out_degree(s, &only) != 1) break;
      out.push_back(static_cast<char>(only));
      s = dfa.step(s, only);
    }
  }
  out.resize(utf8_complete_prefix(out));
  return out;
}

int64_t ConstraintState::bytes_to_end() const {
  if (ended()) return 0;
  if (pda_) return pda_->bytes_to_end();
  return constraint_->bytes_to_accept(dfa_state());
}

int64_t ConstraintState::bytes_to_end_after(int32_t token) const {
  if (ended() || token < 0 || token >= constraint_->vocab_size()) return -1;
  const TokenIndex& index = constraint_->index();
  if (index.is_eos(token)) return can_end() ? 0 : -1;
  const Vocabulary& v = index.vocab();
  if (v.special[token] || v.tokens[token].empty()) return -1;
  if (pda_) {
    int64_t d = 0;
    return pda_->probe(v.tokens[token], &d) ? d : -1;
  }
  const int32_t next = constraint_->next_state(dfa_state(), token);
  return next == Dfa::kDead ? -1 : constraint_->bytes_to_accept(next);
}

int32_t ConstraintState::stack_depth() const {
  return pda_ ? pda_->depth() : 0;
}

}  // namespace stemma::constrain
