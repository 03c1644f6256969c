// TokenSequence: one request's side of the token pipeline (token_pipeline.h): its tokens (the
// prompt, then the generated ones) and what decides the next one: its sampler chain, its stop
// token ids, its position in its constraint, its text stream. The scheduler's Request extends
// it with KV pages and scheduling state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/constrain/constraint_state.h"
#include "engine/sample/sampler.h"
#include "engine/sample/sampling_options.h"
#include "engine/sample/text_stream.h"

namespace stemma {

struct TokenSequence {
  TokenSequence(std::vector<int32_t> prompt, SamplingOptions options, int64_t vocab_size)
      : tokens(std::move(prompt)), sampler(std::move(options), vocab_size) {
    prompt_len = tokens.size();
  }

  std::vector<int32_t> tokens;  // prompt, then generated tokens
  size_t prompt_len = 0;
  Sampler sampler;
  std::vector<int32_t> stop_token_ids;  // sorted: the request's own and (unless ignore_eos) EOS

  // Constrained decoding: the automaton's state after each generated token (in step with
  // generated(); forced tokens included).
  std::optional<constrain::ConstraintState> constraint;
  int32_t jump_forward_tokens = 0;  // generated tokens that took no model step (net of rollback)

  // Detokenizing: the text (with stop strings) when the pipeline has a tokenizer.
  std::unique_ptr<TextStream> text;
  size_t emitted = 0;           // generated tokens already handed on
  std::vector<float> logprobs;  // per generated token (when options().logprobs)

  const SamplingOptions& options() const { return sampler.options(); }
  size_t num_generated() const { return tokens.size() - prompt_len; }
  std::span<const int32_t> prompt() const { return {tokens.data(), prompt_len}; }
  std::span<const int32_t> generated() const {
    return {tokens.data() + prompt_len, tokens.size() - prompt_len};
  }
};

}  // namespace stemma
