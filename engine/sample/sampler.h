// Chooses one request's next token from its logits row: a chain of logits stages
// (logits_stages.h: logit bias -> penalties -> hook -> constraint mask, the ones its options call
// for), then the pick: greedy, or temperature -> top-k -> top-p -> min-p -> a draw from the
// request's own seeded RNG. The first stages of the token pipeline (token_pipeline.h). Each
// request owns one Sampler, so its draws do not depend on what else is in the batch
// (reproducible by seed), and preemption/recompute does not disturb them.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/token_mask.h"
#include "engine/sample/logits_stages.h"
#include "engine/sample/sampling_options.h"

namespace stemma {

struct SampledToken {
  int32_t token = -1;
  float logprob = 0.0f;  // log-softmax of the raw logits at `token` (when options.logprobs)
};

// Pieces of the pipeline, exposed for tests and for other samplers.
namespace sampling {

// Index of the largest value; ties go to the lowest index. -1 when all are -inf or NaN.
int32_t argmax(std::span<const float> logits);

// log(softmax(logits))[token].
float log_softmax_at(std::span<const float> logits, int32_t token);

// The distribution that is sampled from: softmax(logits / temperature) restricted by top_k,
// top_p and min_p (in that order) and renormalized, as (token, probability) sorted by falling
// probability (ties by token id). Always keeps at least the likeliest token. Empty when every
// logit is -inf.
std::vector<std::pair<int32_t, float>> candidate_distribution(std::span<const float> logits,
                                                              float temperature, int32_t top_k,
                                                              float top_p, float min_p);

// The token a draw `u` in [0, 1) picks from candidate_distribution(...): the first token, in
// the distribution's order, at which the cumulative probability exceeds u. Same result (up to
// rounding at the boundaries) in expected linear time: selection by probability mass instead of
// sorting the vocabulary (which costs milliseconds per token at 128k tokens). -1 when every
// logit is -inf.
int32_t sample_from(std::span<const float> logits, float temperature, int32_t top_k, float top_p,
                    float min_p, double u);

}  // namespace sampling

class Sampler {
 public:
  // Builds the chain the options call for.
  Sampler(SamplingOptions options, int64_t vocab_size);

  // Chooses the next token. `logits` is a scratch copy of the request's row (it is modified);
  // `prompt` and `generated` feed the penalties and the hook. `mask` (optional): only its tokens
  // may be chosen (a constrained request's allowed tokens in its current state).
  Result<SampledToken> sample(std::span<float> logits, std::span<const int32_t> prompt,
                              std::span<const int32_t> generated,
                              const constrain::TokenMask* mask = nullptr);

  const SamplingOptions& options() const { return options_; }
  // True when the pick is the plain argmax of the row: greedy, and no logit bias, penalties,
  // hook or logprobs. Without a constraint mask such a token may be picked where the logits
  // are (the backend's argmax rows, TokenPipeline::next_picked) with the same result.
  bool plain_greedy() const;
  // The chain's logits stages, in order ("logit_bias", "penalties", "hook", "constraint_mask").
  std::vector<std::string> stage_names() const;

 private:
  double uniform();

  SamplingOptions options_;
  int64_t vocab_size_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<LogitsStage>> stages_;
};

}  // namespace stemma
