#include "demos/faq-bot/reply_scorer.h"

#include "sdk/program/program_state.h"

namespace stemma::faqbot {

Result<std::vector<double>> score_replies(const std::shared_ptr<program::Runtime>& runtime,
                                          const std::vector<ReplyToScore>& items) {
  std::vector<double> out;
  out.reserve(items.size());
  // Consecutive items with the same conversation are the choices of one select.
  for (size_t begin = 0; begin < items.size();) {
    size_t end = begin + 1;
    while (end < items.size() && items[end].messages == items[begin].messages) ++end;
    STEMMA_ASSIGN_OR_RETURN(std::string prompt,
                            runtime->render_chat(items[begin].messages, nullptr, true));
    std::vector<std::string> choices;
    for (size_t i = begin; i < end; ++i) choices.push_back(items[i].reply + "<|im_end|>");
    // The prompt ends in "\n", a pre-token boundary, so each choice's tokens are those the
    // model saw after it in training (prompt and reply tokenized together).
    auto state = program::ProgramState::create(runtime);
    STEMMA_RETURN_IF_ERROR(state->append(std::move(prompt)));
    STEMMA_RETURN_IF_ERROR(state->select("reply", choices));
    STEMMA_ASSIGN_OR_RETURN(program::Variable v, state->variable("reply"));
    if (v.choice_scores.size() != choices.size()) {
      return Internal("reply scoring: " + std::to_string(v.choice_scores.size()) + " scores for " +
                      std::to_string(choices.size()) + " replies");
    }
    out.insert(out.end(), v.choice_scores.begin(), v.choice_scores.end());
    begin = end;
  }
  return out;
}

}  // namespace stemma::faqbot
