// Greedy generation for one sequence, for tests and benchmarks (the engine's real loop, with
// samplers and the radix cache, lives in engine/sched and engine/sample).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/backend/model_executor.h"

namespace stemma::cpu {

struct GreedyResult {
  std::vector<int32_t> tokens;       // the generated tokens
  std::vector<float> margins;        // per token: top1 - top2 of the row it was chosen from
  std::vector<float> prompt_logits;  // [prompt_len, vocab] when requested
};

// Runs `prompt` through `executor` in chunks of `prefill_chunk` tokens (<= 0: all at once),
// then appends `num_new` argmax tokens one decode step at a time. Uses pages 0, 1, 2... of the
// pool for the single sequence.
Result<GreedyResult> greedy_generate(ModelExecutor& executor, std::span<const int32_t> prompt,
                                     int num_new, int prefill_chunk = 0,
                                     bool keep_prompt_logits = false);

// Index of the largest value (the first one on ties).
int32_t argmax(std::span<const float> values);

// The largest value minus the second largest (0 when they tie; 0 for fewer than two values).
float top2_margin(std::span<const float> values);

}  // namespace stemma::cpu
