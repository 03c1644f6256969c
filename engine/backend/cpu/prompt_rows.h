// The logits of a few chosen positions of one prompt, for comparisons against reference
// implementations at long prompts (`stemma logits --rows`): the prompt is prefilled in chunks
// that end at those positions, each chunk returning only its last token's row, and nothing after
// the last chosen position is computed. Every token sees the same arithmetic as in one forward
// over the whole prompt (the kernels compute each token's row on its own), without the output
// projection over every position.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/backend/model_executor.h"

namespace stemma::cpu {

// Rows of `prompt` at `positions` (any order, repeats allowed; each in [0, prompt.size())), in
// the order given: [positions.size(), vocab] floats. Uses pages 0, 1, 2... of the pool.
Result<std::vector<float>> prompt_logits_rows(ModelExecutor& executor,
                                              std::span<const int32_t> prompt,
                                              std::span<const int64_t> positions);

}  // namespace stemma::cpu
