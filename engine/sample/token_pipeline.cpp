#include "engine/sample/token_pipeline.h"

#include <algorithm>
#include <optional>
#include <string>

#include "engine/constrain/jump_forward.h"

namespace stemma {

TokenPipeline::TokenPipeline(const Tokenizer* tokenizer, std::vector<int32_t> eos_ids)
    : tokenizer_(tokenizer), eos_ids_(std::move(eos_ids)) {
  if (tokenizer_ != nullptr && !tokenizer_->byte_level() && tokenizer_->spec().add_space_prefix) {
    TokenizerSpec spec = tokenizer_->spec();
    spec.add_space_prefix = false;
    auto fragments = Tokenizer::create(std::move(spec));
    if (fragments.ok()) fragment_tokenizer_ = std::move(fragments).value();
  }
}

TokenPipeline::~TokenPipeline() = default;

TokenOutcome TokenPipeline::start(TokenSequence& seq) {
  const SamplingOptions& o = seq.options();
  std::vector<int32_t> stop_ids = o.stop_token_ids;
  if (!o.ignore_eos) stop_ids.insert(stop_ids.end(), eos_ids_.begin(), eos_ids_.end());
  std::sort(stop_ids.begin(), stop_ids.end());
  stop_ids.erase(std::unique(stop_ids.begin(), stop_ids.end()), stop_ids.end());
  seq.stop_token_ids = std::move(stop_ids);
  if (tokenizer_ != nullptr) seq.text = std::make_unique<TextStream>(*tokenizer_, o.stop_strings);
  TokenOutcome out;
  if (o.constraint) {
    seq.constraint.emplace(o.constraint);
    // The forced start goes in with the prompt (it is computed with the prompt's last chunk).
    (void)jump_forward(seq, 0, &out.jump_forward);
    if (seq.constraint->is_finished()) {
      out.finish = FinishReason::kStopToken;
    } else if (seq.num_generated() >= static_cast<size_t>(o.max_tokens)) {
      out.finish = FinishReason::kLength;
    }
  }
  return out;
}

TokenOutcome TokenPipeline::next(TokenSequence& seq, std::span<float> row, size_t computed) {
  TokenOutcome out;
  out.error = sync_constraint(seq);
  if (!out.error.ok()) return out;
  // sample: logit bias -> penalties -> constraint mask -> temperature/top-k/top-p/min-p -> pick
  const constrain::TokenMask* mask = seq.constraint ? seq.constraint->current_mask() : nullptr;
  auto sampled = seq.sampler.sample(row, seq.prompt(), seq.generated(), mask);
  if (!sampled.ok()) {
    out.error = sampled.status();
    return out;
  }
  return accept(seq, *sampled, computed);
}

bool TokenPipeline::argmax_picks(const TokenSequence& seq) {
  return !seq.constraint && seq.sampler.plain_greedy();
}

TokenOutcome TokenPipeline::next_picked(TokenSequence& seq, int32_t token, size_t computed) {
  if (token < 0) {
    TokenOutcome out;
    out.error =
        FailedPrecondition("no token is allowed: every logit is -inf or NaN after processing");
    return out;
  }
  SampledToken sampled;
  sampled.token = token;
  return accept(seq, sampled, computed);
}

TokenOutcome TokenPipeline::accept(TokenSequence& seq, SampledToken sampled, size_t computed) {
  TokenOutcome out;
  // accept
  seq.tokens.push_back(sampled.token);
  if (seq.options().logprobs) seq.logprobs.push_back(sampled.logprob);
  out.sampled = true;
  bool constraint_eos = false;
  if (seq.constraint) {
    constraint_eos = seq.constraint->constraint().index().is_eos(sampled.token);
    out.error = seq.constraint->accept_token(sampled.token);
    if (!out.error.ok()) return out;
  }
  // stop
  out.finish = check_stop(seq, constraint_eos);
  // jump-forward (only the tokens not computed yet may be re-spelled), then stop again
  if (out.finish == FinishReason::kNone && seq.constraint &&
      jump_forward(seq, seq.tokens.size() - computed, &out.jump_forward)) {
    out.finish = check_stop(seq, false);
  }
  return out;
}

void TokenPipeline::emit(TokenSequence& seq, std::vector<int32_t>* tokens,
                         std::vector<float>* logprobs, std::string* text) const {
  std::span<const int32_t> fresh = seq.generated().subspan(seq.emitted);
  tokens->assign(fresh.begin(), fresh.end());
  if (seq.options().logprobs) {
    logprobs->assign(seq.logprobs.begin() + static_cast<std::ptrdiff_t>(seq.emitted),
                     seq.logprobs.end());
  }
  if (seq.text) *text = seq.text->push(fresh);
  seq.emitted = seq.num_generated();
}

std::string TokenPipeline::flush(TokenSequence& seq) const {
  return seq.text ? seq.text->flush() : std::string();
}

Status TokenPipeline::sync_constraint(TokenSequence& seq) const {
  if (!seq.constraint || seq.constraint->num_tokens() == seq.num_generated()) return OkStatus();
  // Out of step (cannot happen while generated tokens only grow): replay from the start.
  seq.constraint.emplace(seq.options().constraint);
  for (int32_t t : seq.generated()) STEMMA_RETURN_IF_ERROR(seq.constraint->accept_token(t));
  return OkStatus();
}

FinishReason TokenPipeline::check_stop(const TokenSequence& seq,
                                       bool sampled_constraint_eos) const {
  const SamplingOptions& o = seq.options();
  const int32_t token = seq.tokens.back();
  if (sampled_constraint_eos ||
      std::binary_search(seq.stop_token_ids.begin(), seq.stop_token_ids.end(), token)) {
    return FinishReason::kStopToken;
  }
  if (seq.constraint && seq.constraint->is_finished()) return FinishReason::kStopToken;
  if (seq.num_generated() >= static_cast<size_t>(o.max_tokens)) return FinishReason::kLength;
  if (o.stop_checker && o.stop_checker->should_stop(seq.generated())) {
    return FinishReason::kStopString;
  }
  return FinishReason::kNone;
}

bool TokenPipeline::jump_forward(TokenSequence& seq, size_t max_rollback, int32_t* net) const {
  const SamplingOptions& o = seq.options();
  if (!seq.constraint || !o.jump_forward || tokenizer_ == nullptr) return false;
  constrain::ConstraintState& st = *seq.constraint;
  if (st.is_finished() || seq.num_generated() >= static_cast<size_t>(o.max_tokens)) return false;
  const std::string forced = st.jump_forward_bytes();
  if (forced.empty()) return false;
  const Tokenizer& tok = fragment_tokenizer_ ? *fragment_tokenizer_ : *tokenizer_;
  constrain::TokenizerView view;
  view.encode = [&tok](std::string_view text) {
    return tok.encode(text, EncodeOptions{.add_special = false, .parse_special = false});
  };
  view.token_bytes = &st.constraint().index().vocab().tokens;
  std::span<const int32_t> gen = seq.generated();
  // Re-tokenize with a little context before the boundary (the pre-tokenizer looks at it), but
  // only tokens that are not computed yet may change; fall back to less context otherwise.
  std::optional<constrain::JumpForwardPlan> plan;
  for (size_t k = std::min(gen.size(), max_rollback + 2);; --k) {
    auto p = constrain::plan_jump_forward(gen, forced, view, k);
    if (p.ok() && p->rollback <= max_rollback) {
      plan = std::move(*p);
      break;
    }
    if (k == 0) break;
  }
  if (!plan || plan->append.empty()) return false;
  const size_t keep = gen.size() - plan->rollback;
  const size_t room = static_cast<size_t>(o.max_tokens) - keep;
  const size_t n = std::min(plan->append.size(), room);
  if (!st.rollback(plan->rollback).ok()) return false;
  size_t accepted = 0;
  while (accepted < n && st.accept_token(plan->append[accepted]).ok()) ++accepted;
  if (accepted < n) {
    // The tokenizer spelled the forced text with a token the automaton refuses (e.g. a special
    // token): no jump this time; restore the state.
    (void)st.rollback(accepted);
    for (size_t i = keep; i < gen.size(); ++i) (void)st.accept_token(gen[i]);
    return false;
  }
  seq.tokens.resize(seq.prompt_len + keep);
  if (o.logprobs) seq.logprobs.resize(keep);
  seq.tokens.insert(seq.tokens.end(), plan->append.begin(),
                    plan->append.begin() + static_cast<std::ptrdiff_t>(n));
  if (o.logprobs) seq.logprobs.resize(seq.num_generated(), 0.0f);  // forced: p = 1 under it
  *net = static_cast<int32_t>(n) - static_cast<int32_t>(plan->rollback);
  seq.jump_forward_tokens += *net;
  return true;
}

}  // namespace stemma
