#include "engine/sample/sampling_options.h"

#include <cmath>
#include <string>

#include "engine/constrain/compiled_constraint.h"

namespace stemma {

Status GenerationOptions::validate() const {
  if (max_tokens < 1)
    return InvalidArgument("max_tokens must be >= 1, got " + std::to_string(max_tokens));
  if (!std::isfinite(temperature)) return InvalidArgument("temperature is not finite");
  if (top_k < 0) return InvalidArgument("top_k must be >= 0, got " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return InvalidArgument("top_p must be in (0, 1], got " + std::to_string(top_p));
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    return InvalidArgument("min_p must be in [0, 1], got " + std::to_string(min_p));
  }
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty)) {
    return InvalidArgument("repetition_penalty must be > 0, got " +
                           std::to_string(repetition_penalty));
  }
  if (!std::isfinite(frequency_penalty) || !std::isfinite(presence_penalty)) {
    return InvalidArgument("frequency/presence penalty is not finite");
  }
  for (const auto& [token, bias] : logit_bias) {
    if (std::isnan(bias))
      return InvalidArgument("logit_bias of token " + std::to_string(token) + " is NaN");
  }
  for (size_t i = 0; i < stop_strings.size(); ++i) {
    if (stop_strings[i].empty()) {
      return InvalidArgument("stop_strings[" + std::to_string(i) + "] is empty");
    }
  }
  const int constraints = static_cast<int>(!regex.empty()) +
                          static_cast<int>(!json_schema.empty()) +
                          static_cast<int>(!choices.empty());
  if (constraints > 1) {
    return InvalidArgument("regex, json_schema and choices: give at most one");
  }
  if (json_whitespace < 0 || json_whitespace > 16) {
    return InvalidArgument("json_whitespace must be in [0, 16], got " +
                           std::to_string(json_whitespace));
  }
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i].empty()) return InvalidArgument("choices[" + std::to_string(i) + "] is empty");
  }
  if (prompt_logprobs_from == 0 || prompt_logprobs_from < -1) {
    return InvalidArgument("prompt_logprobs_from must be -1 (off) or >= 1 (token 0 has no " +
                           std::string("context to be predicted from), got ") +
                           std::to_string(prompt_logprobs_from));
  }
  return OkStatus();
}

Status SamplingOptions::validate(int64_t vocab_size) const {
  STEMMA_RETURN_IF_ERROR(GenerationOptions::validate());
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0 || token >= vocab_size) {
      return InvalidArgument("logit_bias token " + std::to_string(token) + " is outside vocab of " +
                             std::to_string(vocab_size));
    }
  }
  for (int32_t token : stop_token_ids) {
    if (token < 0 || token >= vocab_size) {
      return InvalidArgument("stop token " + std::to_string(token) + " is outside vocab of " +
                             std::to_string(vocab_size));
    }
  }
  if (constraint && constraint->vocab_size() > vocab_size) {
    return InvalidArgument("constraint was compiled for a vocabulary of " +
                           std::to_string(constraint->vocab_size()) + " tokens, the model has " +
                           std::to_string(vocab_size));
  }
  return OkStatus();
}

}  // namespace stemma
