#include "engine/constrain/choice.h"

#include <cmath>
#include <string>

namespace stemma {

Result<ChoiceScores> score_choices(const std::vector<std::vector<float>>& token_logprobs,
                                   ChoiceRule rule) {
  if (token_logprobs.empty()) return InvalidArgument("select: no choices to score");
  ChoiceScores out;
  for (size_t i = 0; i < token_logprobs.size(); ++i) {
    const auto& lp = token_logprobs[i];
    if (lp.empty())
      return InvalidArgument("select: choice " + std::to_string(i) + " has no tokens");
    double total = 0;
    for (float x : lp) {
      if (std::isnan(x) || x > 0) {
        return InvalidArgument("select: choice " + std::to_string(i) +
                               " has a log-prob that is NaN or above 0");
      }
      total += x;
    }
    double score = rule == ChoiceRule::kTotal ? total : total / static_cast<double>(lp.size());
    out.scores.push_back(score);
    if (score > out.scores[out.best]) out.best = i;
  }
  return out;
}

}  // namespace stemma
