// Hooks callers plug into the sampler: a per-request logits processor (any edit of the logits
// before the choice; constraints have their own field, SamplingOptions::constraint, applied
// after it) and a per-request stop checker (a custom rule over the generated ids; stop strings
// have their own field, SamplingOptions::stop_strings).
//
// Both are called on the engine's worker thread, once per sampled token of their request, and
// must not block: every request in the batch waits for them.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "engine/api/status.h"

namespace stemma {

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  // Edits `logits` (vocab_size floats: the request's row, already biased and penalized) before
  // the token is chosen; e.g. sets disallowed tokens to -infinity. `generated` holds the tokens
  // this request generated so far (the prompt excluded), so a stateful processor can re-derive
  // its state. With jump-forward, tokens appended without a model step are in `generated` too
  // and the last sampled token may have been re-spelled since the previous call: compare with
  // what was seen, do not only append. An error finishes the request with FinishReason::kError.
  virtual Status process(std::span<const int32_t> generated, std::span<float> logits) = 0;
};

// A LogitsProcessor from a function.
class FunctionLogitsProcessor : public LogitsProcessor {
 public:
  using Fn = std::function<Status(std::span<const int32_t>, std::span<float>)>;
  explicit FunctionLogitsProcessor(Fn fn) : fn_(std::move(fn)) {}
  Status process(std::span<const int32_t> generated, std::span<float> logits) override {
    return fn_(generated, logits);
  }

 private:
  Fn fn_;
};

class StopChecker {
 public:
  virtual ~StopChecker() = default;
  // Called after each sampled token with all generated tokens so far. Returning true finishes
  // the request with FinishReason::kStopString (the tokens are kept).
  virtual bool should_stop(std::span<const int32_t> generated) = 0;
};

}  // namespace stemma
