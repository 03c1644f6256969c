#include "sdk/program/runtime.h"

namespace stemma::program {

Result<std::shared_ptr<Runtime>> Runtime::create(Engine& engine, RuntimeOptions options) {
  std::shared_ptr<const TextLayer> text = engine.text();
  if (!text) {
    return FailedPrecondition(
        "the engine's model carries no tokenizer (the SDK works on text); open a model with "
        "one");
  }
  if (!options.chat_template.empty()) {
    STEMMA_ASSIGN_OR_RETURN(text, text->with_chat_template(options.chat_template));
  } else if (text->chat_template_status().code() == StatusCode::kUnsupported) {
    return text->chat_template_status().with_context("parsing the chat template");
  }
  std::shared_ptr<Runtime> rt(new Runtime(engine, std::move(text)));
  if (rt->text_->has_chat_template()) {
    const TextLayer* t = rt->text_.get();
    rt->role_blocks_ = std::make_unique<RoleBlocks>(
        [t](const nlohmann::ordered_json& messages, bool add_generation_prompt) {
          return t->render_chat(messages, nullptr, add_generation_prompt);
        },
        t->bos_text());
  }
  return rt;
}

Result<std::string> Runtime::render_chat_json(const nlohmann::ordered_json& messages,
                                              const nlohmann::ordered_json& tools,
                                              bool add_generation_prompt) const {
  if (!text_->has_chat_template()) {
    return FailedPrecondition(
        "the model ships no chat template; set RuntimeOptions::chat_template (e.g. \"chatml\")");
  }
  return text_->render_chat(messages, tools, add_generation_prompt);
}

Result<std::string> Runtime::render_chat(const std::vector<Message>& messages,
                                         const nlohmann::ordered_json& tools,
                                         bool add_generation_prompt) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Message& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  return render_chat_json(list, tools, add_generation_prompt);
}

Result<const RoleBlocks*> Runtime::role_blocks() const {
  if (!role_blocks_) {
    return FailedPrecondition(
        "the model ships no chat template, so there are no role blocks; set "
        "RuntimeOptions::chat_template (e.g. \"chatml\")");
  }
  return static_cast<const RoleBlocks*>(role_blocks_.get());
}

bool Runtime::template_uses_tools() const {
  return has_chat_template() && text_->chat_template_source().find("tools") != std::string::npos;
}

}  // namespace stemma::program
