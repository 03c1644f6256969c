// Helpers for writing constraints as text (GenerationOptions::regex), for callers that compose
// their own regex (the SDK's agent splices tool-call formats around JSON Schemas), and for
// choosing among literal strings by model likelihood (select).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"

namespace stemma {

// The regex that a JSON Schema constrains to, as one regex without grammar rules (recursive
// $refs nest a bounded number of times), with up to `whitespace` spaces/newlines at structural
// positions. Unsupported names every keyword it cannot enforce.
Result<std::string> json_schema_regex(std::string_view schema_json, int whitespace = 0);

// `text` with every regex metacharacter escaped (matches exactly `text`).
std::string regex_escape(std::string_view text);

// One character of a JSON string body (an unescaped character or an escape), as regex.
const char* json_string_char_regex();

enum class ChoiceRule {
  kTotal,  // sum of token log-probs (prefers short choices)
  kMean,   // mean per token (length-normalised)
};

struct ChoiceScores {
  size_t best = 0;
  std::vector<double> scores;  // per choice, by the rule
};

// token_logprobs[i][j] = log p(token j of choice i | prompt, earlier tokens of choice i) (e.g.
// RequestOutput::prompt_logprobs of prompt + choice i). Ties go to the earlier choice. Fails on
// no choices or a choice with no tokens.
Result<ChoiceScores> score_choices(const std::vector<std::vector<float>>& token_logprobs,
                                   ChoiceRule rule = ChoiceRule::kMean);

}  // namespace stemma
