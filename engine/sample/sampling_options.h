// SamplingOptions: one request's GenerationOptions as the engine runs it: its constraint
// compiled (from regex / json_schema / choices, by Engine::submit), max_tokens capped to the
// context, and two hooks of the token pipeline that only tests and tools set.
#pragma once

#include <memory>
#include <utility>

#include "engine/api/generation_options.h"
#include "engine/api/status.h"
#include "engine/sample/logits_processor.h"

namespace stemma {
namespace constrain {
class CompiledConstraint;
}

// The base is private so that a SamplingOptions is never passed (and sliced) where the public
// GenerationOptions is expected: Engine::submit would drop the constraint and the hooks.
struct SamplingOptions : private GenerationOptions {
  SamplingOptions() = default;
  explicit SamplingOptions(GenerationOptions options) : GenerationOptions(std::move(options)) {}
  const GenerationOptions& generation() const { return *this; }

  using GenerationOptions::choices;
  using GenerationOptions::frequency_penalty;
  using GenerationOptions::ignore_eos;
  using GenerationOptions::json_schema;
  using GenerationOptions::json_whitespace;
  using GenerationOptions::jump_forward;
  using GenerationOptions::logit_bias;
  using GenerationOptions::logprobs;
  using GenerationOptions::max_tokens;
  using GenerationOptions::min_p;
  using GenerationOptions::presence_penalty;
  using GenerationOptions::prompt_logprobs_from;
  using GenerationOptions::regex;
  using GenerationOptions::repetition_penalty;
  using GenerationOptions::seed;
  using GenerationOptions::stop_strings;
  using GenerationOptions::stop_token_ids;
  using GenerationOptions::temperature;
  using GenerationOptions::top_k;
  using GenerationOptions::top_p;

  // The compiled constraint (none: unconstrained). Only tokens that keep the output on a path
  // the automaton can finish are sampled; EOS only where the output is complete. The request
  // finishes with kStopToken when the automaton is finished (EOS sampled, or nothing can
  // extend the output).
  std::shared_ptr<const constrain::CompiledConstraint> constraint;
  // Test hooks (engine/engine_internal.h): an edit of the logits before the constraint mask,
  // and a custom stop rule over the generated ids (finishes with kStopString). Applications
  // constrain output with `constraint` (GenerationOptions' regex / json_schema / choices).
  std::shared_ptr<LogitsProcessor> logits_processor;
  std::shared_ptr<StopChecker> stop_checker;

  // GenerationOptions::validate, then what needs the model: token ids against `vocab_size`,
  // and a constraint compiled for a vocabulary that fits. Names the first bad field.
  Status validate(int64_t vocab_size) const;
};

}  // namespace stemma
