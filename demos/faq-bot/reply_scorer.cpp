#include "demos/faq-bot/reply_scorer.h"

namespace stemma::faqbot {

Result<std::vector<double>> score_replies(Engine& engine, const Tokenizer& tokenizer,
                                          const std::vector<ReplyToScore>& items) {
  std::vector<RequestId> ids;
  std::vector<size_t> reply_tokens;
  for (const ReplyToScore& it : items) {
    const std::string prompt_text = render_chat(it.messages, /*add_generation_prompt=*/true);
    const std::vector<int32_t> prompt = tokenizer.encode(prompt_text);
    // Tokenized together, as the model saw replies in training; the prompt ends in "\n", a
    // pre-token boundary, so the reply's tokens follow the prompt's unchanged.
    std::vector<int32_t> full = tokenizer.encode(prompt_text + it.reply + "<|im_end|>");
    if (full.size() <= prompt.size() || !std::equal(prompt.begin(), prompt.end(), full.begin())) {
      return Internal("reply scoring: the reply does not tokenize after its prompt unchanged");
    }
    GenerationOptions so;
    so.max_tokens = 1;
    so.temperature = 0;
    so.prompt_logprobs_from = static_cast<int32_t>(prompt.size());
    reply_tokens.push_back(full.size() - prompt.size());
    STEMMA_ASSIGN_OR_RETURN(RequestId id, engine.submit(std::move(full), std::move(so)));
    ids.push_back(id);
  }
  std::vector<double> out;
  Status first_error = OkStatus();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto res = engine.wait(ids[i]);  // wait for every request, even after an error
    if (!res.ok()) {
      if (first_error.ok()) first_error = res.status();
      continue;
    }
    const RequestOutput& o = res.value();
    if (o.finish == FinishReason::kError || o.prompt_logprobs.size() != reply_tokens[i]) {
      if (first_error.ok()) {
        first_error =
            Internal("reply scoring: request failed or returned " +
                     std::to_string(o.prompt_logprobs.size()) + " logprobs for " +
                     std::to_string(reply_tokens[i]) + " reply tokens: " + o.error.to_string());
      }
      continue;
    }
    double sum = 0;
    for (float lp : o.prompt_logprobs) sum += lp;
    out.push_back(sum);
  }
  if (!first_error.ok()) return first_error;
  return out;
}

}  // namespace stemma::faqbot
