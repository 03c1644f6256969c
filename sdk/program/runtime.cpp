#include "sdk/program/runtime.h"

#include <algorithm>

namespace stemma::program {

Result<std::shared_ptr<Runtime>> Runtime::create(Engine& engine, RuntimeOptions options) {
  const Tokenizer* tok = engine.tokenizer();
  if (tok == nullptr) {
    return FailedPrecondition(
        "the engine's model carries no tokenizer (the SDK works on text); open a model with one "
        "or pass EngineOptions::tokenizer");
  }
  std::shared_ptr<Runtime> rt(new Runtime(engine, *tok));
  const ModelConfig& c = engine.config();
  const KvCacheShape& kv = engine.kv_shape();
  const int64_t pool = static_cast<int64_t>(kv.num_pages) * kv.page_size;
  int64_t ctx = c.max_position > 0 ? c.max_position : pool;
  if (pool > 0) ctx = std::min(ctx, pool);
  rt->context_length_ = static_cast<int32_t>(std::min<int64_t>(ctx, INT32_MAX));
  if (tok->bos_id() >= 0 && tok->bos_id() < tok->vocab_size()) {
    rt->bos_text_ = tok->id_to_token(tok->bos_id());
  }
  if (tok->eos_id() >= 0 && tok->eos_id() < tok->vocab_size()) {
    rt->eos_text_ = tok->id_to_token(tok->eos_id());
  }
  std::string source = options.chat_template;
  if (source.empty()) source = tok->spec().chat_template;
  if (!source.empty()) {
    Result<ChatTemplate> t = ChatTemplate::builtin_source(source) != nullptr
                                 ? ChatTemplate::builtin(source)
                                 : ChatTemplate::parse(source);
    if (!t.ok()) return t.status().with_context("parsing the chat template");
    rt->template_ = std::move(t).value();
    rt->role_blocks_ = std::make_unique<RoleBlocks>(*rt->template_, rt->bos_text_, rt->eos_text_);
  }
  return rt;
}

std::vector<int32_t> Runtime::encode(std::string_view text) const {
  EncodeOptions o;
  o.add_special = false;
  o.parse_special = true;
  return tokenizer_.encode(text, o);
}

std::vector<int32_t> Runtime::encode_start(std::string_view text) const {
  std::vector<int32_t> ids;
  if (tokenizer_.spec().add_bos && tokenizer_.bos_id() >= 0) ids.push_back(tokenizer_.bos_id());
  std::vector<int32_t> rest = encode(text);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

std::vector<int32_t> Runtime::encode_prompt(std::string_view rendered) const {
  if (!bos_text_.empty() && rendered.substr(0, bos_text_.size()) == bos_text_) {
    return encode(rendered);  // the template wrote BOS itself
  }
  return encode_start(rendered);
}

Result<std::string> Runtime::render_chat_json(const nlohmann::ordered_json& messages,
                                              const nlohmann::ordered_json& tools,
                                              bool add_generation_prompt) const {
  if (!template_) {
    return FailedPrecondition(
        "the model ships no chat template; set RuntimeOptions::chat_template (e.g. \"chatml\")");
  }
  ChatTemplateInputs in;
  in.messages = messages;
  in.tools = tools;
  in.add_generation_prompt = add_generation_prompt;
  in.bos_token = bos_text_;
  in.eos_token = eos_text_;
  return template_->render(in);
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
  return template_ && template_->source().find("tools") != std::string::npos;
}

}  // namespace stemma::program
