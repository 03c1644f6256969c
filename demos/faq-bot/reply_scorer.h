// The model's likelihood of whole replies: log p(reply <|im_end|> | prompt), summed over the
// reply's tokens, from the engine's prompt logprobs. Many candidates for one prompt share its
// KV through the radix cache, so scoring k replies costs about their own tokens, not k prompts.
#pragma once

#include <string>
#include <vector>

#include "demos/faq-bot/faq_prompt.h"
#include "engine/api/engine.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::faqbot {

struct ReplyToScore {
  std::vector<Message> messages;  // the conversation before the assistant turn
  std::string reply;              // the assistant turn's text (without <|im_end|>)
};

// One log-likelihood per item (natural log), in order. The requests run as one batch.
Result<std::vector<double>> score_replies(Engine& engine, const Tokenizer& tokenizer,
                                          const std::vector<ReplyToScore>& items);

}  // namespace stemma::faqbot
