// Choosing among literal strings (SGLang's `select`) by model likelihood. The constraint side
// is CompiledConstraint::from_choices (a regex alternation); this side scores the choices from
// log-probabilities the caller computed for each choice's tokens.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/api/status.h"

namespace stemma::constrain {

enum class ChoiceRule {
  kTotal,  // sum of token log-probs (prefers short choices)
  kMean,   // mean per token (length-normalised)
};

struct ChoiceScores {
  size_t best = 0;
  std::vector<double> scores;  // per choice, by `rule`
};

// token_logprobs[i][j] = log p(token j of choice i | prompt, earlier tokens of choice i).
// Ties go to the earlier choice. Fails on no choices or a choice with no tokens.
Result<ChoiceScores> score_choices(const std::vector<std::vector<float>>& token_logprobs,
                                   ChoiceRule rule = ChoiceRule::kMean);

}  // namespace stemma::constrain
