// The per-token pipeline: what happens to one request after the model computed the logits row
// of its last token, as a chain of stages (in the spirit of llama.cpp's sampler chain):
//
//   sample:        logit bias -> penalties -> constraint mask -> temperature / top-k / top-p /
//                  min-p -> pick                      (Sampler, logits_stages.h)
//   accept:        the token joins the sequence; the constraint takes it
//   stop:          a stop token, the constraint complete, max_tokens, the stop hook
//   jump-forward:  the text the constraint forces next, appended as tokens without a model step
//   detokenize:    the new tokens' text, stop strings applied (TextStream), on emit()
//
// The scheduler (engine/sched/) decides what runs and calls this once per finished row; the
// pipeline never touches KV pages or the batch. Single-threaded, like the scheduler.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/api/request.h"
#include "engine/api/status.h"
#include "engine/sample/token_sequence.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma {

// What one pass of the pipeline did to a sequence.
struct TokenOutcome {
  Status error;  // not OK: the request cannot go on (the scheduler finishes it with kError)
  FinishReason finish = FinishReason::kNone;
  bool sampled = false;      // a token was sampled from the row
  int32_t jump_forward = 0;  // net tokens appended without a model step
};

class TokenPipeline {
 public:
  // `tokenizer` (may be null: then no text, stop strings or jump-forward) must outlive the
  // pipeline. `eos_ids`: the model's EOS tokens (they stop a request unless ignore_eos).
  TokenPipeline(const Tokenizer* tokenizer, std::vector<int32_t> eos_ids);
  ~TokenPipeline();

  // A sequence enters: its stop token ids, its text stream, its constraint, whose forced start
  // is appended at once (computed with the prompt). `finish` is set when that start already
  // completes it (or fills max_tokens).
  TokenOutcome start(TokenSequence& seq);
  // One pass over the logits row of the sequence's last token (`row` is edited in place):
  // sample, accept, stop, jump-forward. Tokens past the first `computed` have no KV yet, so
  // jump-forward may re-spell only those.
  TokenOutcome next(TokenSequence& seq, std::span<float> row, size_t computed);
  // True when the sample stage of the sequence's next token is the plain argmax of its row
  // (Sampler::plain_greedy, no constraint): the backend may pick it (SequenceStep::argmax_only).
  static bool argmax_picks(const TokenSequence& seq);
  // next() for such a sequence, with the argmax the backend picked: accept, stop, jump-forward.
  // -1 (every logit NaN or -inf) is the error sampling gives.
  TokenOutcome next_picked(TokenSequence& seq, int32_t token, size_t computed);
  // Detokenize: the generated tokens not handed on yet, their logprobs and their text (text
  // that might start a stop string is held back; stopped_by_text() tells when one ended it).
  void emit(TokenSequence& seq, std::vector<int32_t>* tokens, std::vector<float>* logprobs,
            std::string* text) const;
  bool stopped_by_text(const TokenSequence& seq) const { return seq.text && seq.text->stopped(); }
  // The text held back, when the sequence ends.
  std::string flush(TokenSequence& seq) const;

 private:
  // accept, stop, jump-forward for a token chosen by either path.
  TokenOutcome accept(TokenSequence& seq, SampledToken sampled, size_t computed);
  // Re-derives the constraint state from the generated tokens if they are out of step.
  Status sync_constraint(TokenSequence& seq) const;
  FinishReason check_stop(const TokenSequence& seq, bool sampled_constraint_eos) const;
  // Appends the bytes the constraint forces next, re-tokenized; at most `max_rollback` of the
  // last generated tokens may be re-spelled. True when it did (`net`: tokens appended minus
  // tokens re-spelled).
  bool jump_forward(TokenSequence& seq, size_t max_rollback, int32_t* net) const;

  const Tokenizer* tokenizer_;
  std::vector<int32_t> eos_ids_;
  // Jump-forward re-tokenizes fragments from the middle of the output: a SentencePiece
  // tokenizer that prefixes every text with a space gets a copy that does not (else no
  // fragment round-trips). Null when tokenizer_ serves as is.
  std::unique_ptr<Tokenizer> fragment_tokenizer_;
};

}  // namespace stemma
