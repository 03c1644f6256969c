#include "engine/constrain/jump_forward.h"

#include <algorithm>

namespace stemma::constrain {

namespace {

Result<std::string> bytes_of(std::span<const int32_t> ids, const TokenizerView& tok) {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(tok.token_bytes->size())) {
      return InvalidArgument("jump-forward: token id " + std::to_string(id) + " out of range");
    }
    out += (*tok.token_bytes)[id];
  }
  return out;
}

}  // namespace

Result<JumpForwardPlan> plan_jump_forward(std::span<const int32_t> output, std::string_view forced,
                                          const TokenizerView& tokenizer, size_t lookback) {
  if (!tokenizer.encode || !tokenizer.token_bytes) {
    return InvalidArgument("jump-forward: tokenizer has no encode function or token table");
  }
  JumpForwardPlan plan;
  plan.forced = std::string(forced);
  if (forced.empty()) return plan;
  // Try the widest look-back first; fall back to narrower ones if the tokenizer does not
  // round-trip the text (e.g. a partial UTF-8 character inside the tail).
  for (size_t k = std::min(lookback, output.size());; --k) {
    std::span<const int32_t> tail = output.subspan(output.size() - k);
    auto tail_bytes = bytes_of(tail, tokenizer);
    if (!tail_bytes.ok()) return tail_bytes.status();
    std::string text = *tail_bytes + std::string(forced);
    std::vector<int32_t> retok = tokenizer.encode(text);
    auto round_trip = bytes_of(retok, tokenizer);
    if (round_trip.ok() && *round_trip == text) {
      size_t common = 0;
      while (common < k && common < retok.size() && retok[common] == tail[common]) ++common;
      // Keep whole tokens already emitted when the new ones only re-spell them.
      plan.rollback = k - common;
      plan.append.assign(retok.begin() + static_cast<std::ptrdiff_t>(common), retok.end());
      return plan;
    }
    if (k == 0) break;
  }
  return Internal("jump-forward: the tokenizer does not round-trip the forced text '" +
                  std::string(forced) + "'");
}

Result<JumpForwardPlan> jump_forward(ConstraintState* state, std::vector<int32_t>* output,
                                     const TokenizerView& tokenizer, JumpForwardStats* stats,
                                     size_t lookback) {
  std::string forced = state->jump_forward_bytes();
  JumpForwardPlan empty;
  if (forced.empty()) return empty;
  size_t usable = std::min(lookback, state->num_tokens());
  usable = std::min(usable, output->size());
  auto plan = plan_jump_forward(*output, forced, tokenizer, usable);
  if (!plan.ok()) return plan.status();
  STEMMA_RETURN_IF_ERROR(state->rollback(plan->rollback));
  output->resize(output->size() - plan->rollback);
  for (size_t i = 0; i < plan->append.size(); ++i) {
    Status s = state->accept_token(plan->append[i]);
    if (!s.ok()) {
      // Cannot happen for a lossless tokenizer (the bytes are the same path); undo.
      (void)state->rollback(i);
      return Internal("jump-forward: re-tokenized token rejected: " + s.message());
    }
    output->push_back(plan->append[i]);
  }
  if (stats) {
    ++stats->jumps;
    stats->forced_bytes += static_cast<int64_t>(forced.size());
    stats->tokens_appended += static_cast<int64_t>(plan->append.size());
    stats->tokens_rolled_back += static_cast<int64_t>(plan->rollback);
  }
  return plan;
}

}  // namespace stemma::constrain
