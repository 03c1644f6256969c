// How one request chooses its tokens and when it stops.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/status.h"
#include "engine/sample/logits_processor.h"

namespace stemma {
namespace constrain {
class CompiledConstraint;
}

struct SamplingOptions {
  int32_t max_tokens = 16;   // generated tokens at most (>= 1)
  float temperature = 1.0f;  // <= 0: greedy (argmax, ties to the lowest id)
  int32_t top_k = 0;         // keep the k most likely tokens; 0: off
  float top_p = 1.0f;        // keep the smallest set whose probability reaches top_p; 1: off
  float min_p = 0.0f;        // drop tokens below min_p * (probability of the likeliest); 0: off
  uint64_t seed = 0;         // per-request RNG seed: same seed + same logits = same tokens
  // Penalties. repetition: CTRL/HF style (divide positive logits, multiply negative ones) over
  // prompt and generated tokens; frequency/presence: OpenAI style over generated tokens.
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token, added to its logit)
  std::vector<int32_t> stop_token_ids;  // finish when one is generated (it is kept in the output)
  bool ignore_eos = false;              // false: the model's EOS ids also stop
  bool logprobs = false;                // report log-softmax of the raw logits at each chosen token
  std::shared_ptr<LogitsProcessor> logits_processor;  // e.g. a grammar's token mask
  std::shared_ptr<StopChecker> stop_checker;          // custom stop rule over generated tokens

  // Constrained output (Engine::compile_regex / compile_json_schema / compile_choices): only
  // tokens that keep the output on a path the automaton can finish are sampled; EOS only where
  // the output is complete. The request finishes with kStopToken when the automaton is
  // finished (EOS sampled, or nothing can extend the output).
  std::shared_ptr<const constrain::CompiledConstraint> constraint;
  // With a constraint: where the automaton allows exactly one continuation, append it without
  // model steps, tokenized as the model's tokenizer would (needs the engine's tokenizer).
  bool jump_forward = true;
  // Finish with kStopString when the decoded output contains one of these (needs a tokenizer).
  // The output text is cut before it; the tokens that spelled it are kept.
  std::vector<std::string> stop_strings;
  // >= 1: report log p(token_i | tokens before i) for prompt positions i in
  // [prompt_logprobs_from, prompt length) (RequestOutput::prompt_logprobs). Those positions are
  // computed, not served from the prefix cache. -1: off.
  int32_t prompt_logprobs_from = -1;

  // Names the first bad field (token ids are checked against `vocab_size`).
  Status validate(int64_t vocab_size) const;
};

}  // namespace stemma
