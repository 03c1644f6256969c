#include "engine/constrain/constraint_state.h"

#include "engine/constrain/utf8.h"

namespace stemma::constrain {

ConstraintState::ConstraintState(std::shared_ptr<const CompiledConstraint> constraint)
    : constraint_(std::move(constraint)) {
  states_.push_back(constraint_->dfa().start);
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
  if (dfa_state() == kEnded) return nullptr;
  return &constraint_->mask(dfa_state());
}

bool ConstraintState::is_allowed(int32_t token) const {
  if (dfa_state() == kEnded) return false;
  return constraint_->token_allowed(dfa_state(), token);
}

Status ConstraintState::accept_token(int32_t token) {
  const int32_t s = dfa_state();
  if (s == kEnded) {
    return FailedPrecondition("constraint: token " + std::to_string(token) +
                              " after the end of the constrained output");
  }
  if (token < 0 || token >= constraint_->vocab_size()) {
    return InvalidArgument("constraint: token id " + std::to_string(token) + " is out of range");
  }
  if (constraint_->index().is_eos(token)) {
    if (!constraint_->dfa().is_accepting(s)) {
      return InvalidArgument("constraint: EOS token " + std::to_string(token) +
                             " before the output is complete");
    }
    states_.push_back(kEnded);
    return OkStatus();
  }
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
  states_.resize(states_.size() - n);
  return OkStatus();
}

bool ConstraintState::can_end() const {
  int32_t s = dfa_state();
  return s != kEnded && constraint_->dfa().is_accepting(s);
}

bool ConstraintState::is_finished() const {
  int32_t s = dfa_state();
  if (s == kEnded) return true;
  return constraint_->dfa().is_accepting(s) && constraint_->dfa().out_degree(s, nullptr) == 0;
}

std::string ConstraintState::jump_forward_bytes() const {
  std::string out;
  int32_t s = dfa_state();
  if (s == kEnded) return out;
  const Dfa& dfa = constraint_->dfa();
  // A byte is forced while the state cannot stop here and has one way on.
  while (!dfa.is_accepting(s) && out.size() < 4096) {
    uint8_t only = 0;
    if (dfa.out_degree(s, &only) != 1) break;
    out.push_back(static_cast<char>(only));
    s = dfa.step(s, only);
  }
  out.resize(utf8_complete_prefix(out));
  return out;
}

}  // namespace stemma::constrain
