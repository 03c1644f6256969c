#include "sdk/program/conversation_prompt.h"

namespace stemma::program {

Result<std::vector<int32_t>> ConversationPrompt::prompt(const std::vector<Message>& messages,
                                                        const nlohmann::ordered_json& tools) {
  STEMMA_ASSIGN_OR_RETURN(std::string text, runtime_->render_chat(messages, tools, true));
  std::vector<int32_t> ids;
  extended_ = false;
  if (!text_.empty() && text.size() >= text_.size() && text.compare(0, text_.size(), text_) == 0) {
    extended_ = true;
    ids = ids_;
    std::string_view rest = std::string_view(text).substr(text_.size());
    if (!reply_text_.empty() && rest.substr(0, reply_text_.size()) == reply_text_) {
      ids.insert(ids.end(), reply_ids_.begin(), reply_ids_.end());
      rest.remove_prefix(reply_text_.size());
    }
    std::vector<int32_t> more = runtime_->encode(rest);
    ids.insert(ids.end(), more.begin(), more.end());
  } else {
    ids = runtime_->encode_prompt(text);
  }
  text_ = std::move(text);
  ids_ = ids;
  reply_text_.clear();
  reply_ids_.clear();
  return ids;
}

void ConversationPrompt::set_reply(std::string text, std::vector<int32_t> tokens) {
  reply_text_ = std::move(text);
  reply_ids_ = std::move(tokens);
}

void ConversationPrompt::reset() {
  text_.clear();
  ids_.clear();
  reply_text_.clear();
  reply_ids_.clear();
  extended_ = false;
}

}  // namespace stemma::program
