// The model's likelihood of whole replies: log p(reply <|im_end|> | prompt), summed over the
// reply's tokens. Each conversation's candidates are the choices of one sdk/program select
// (prompt logprobs of prompt + candidate), so the candidates share the prompt's KV through the
// radix cache and scoring k replies costs about their own tokens, not k prompts.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "demos/faq-bot/faq_prompt.h"
#include "sdk/program/runtime.h"

namespace stemma::faqbot {

struct ReplyToScore {
  std::vector<Message> messages;  // the conversation before the assistant turn
  std::string reply;              // the assistant turn's text (without <|im_end|>)
};

// One log-likelihood per item (natural log), in order.
Result<std::vector<double>> score_replies(const std::shared_ptr<program::Runtime>& runtime,
                                          const std::vector<ReplyToScore>& items);

}  // namespace stemma::faqbot
