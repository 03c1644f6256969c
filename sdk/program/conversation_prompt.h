// ConversationPrompt: the token ids of a conversation rendered with the model's chat template,
// kept append-only across turns so that each turn's prompt extends the previous one token for
// token (and the radix cache serves all of the earlier conversation).
//
// Each call renders the whole conversation (any template works, also those that cannot be split
// into role blocks). When the previous prompt's text is a prefix of the new one, the new ids are
// the previous ids, then the reply's tokens as they were generated (when the new text continues
// with the reply's text), then the rest encoded on its own. Otherwise (a template that rewrites
// history, e.g. one that drops earlier reasoning) the whole text is encoded again; the radix
// cache still serves the longest common prefix.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "sdk/program/runtime.h"

namespace stemma::program {

class ConversationPrompt {
 public:
  explicit ConversationPrompt(std::shared_ptr<Runtime> runtime) : runtime_(std::move(runtime)) {}

  // The ids of render(messages, tools, add_generation_prompt = true).
  Result<std::vector<int32_t>> prompt(const std::vector<Message>& messages,
                                      const nlohmann::ordered_json& tools = nullptr);
  // Tells what was generated after the last prompt: its text (as it will appear as the
  // assistant's content) and the tokens that spell it.
  void set_reply(std::string text, std::vector<int32_t> tokens);
  // Forget the previous prompt (the next one is encoded whole).
  void reset();

  // Whether the last prompt() extended the previous one (false: encoded whole).
  bool extended() const { return extended_; }
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<Runtime> runtime_;
  std::string text_;  // the last prompt's rendered text
  std::vector<int32_t> ids_;
  std::string reply_text_;
  std::vector<int32_t> reply_ids_;
  bool extended_ = false;
};

}  // namespace stemma::program
