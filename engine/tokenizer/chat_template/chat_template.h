// Chat templates: renders the Jinja templates models ship (tokenizer_config.json's
// chat_template, GGUF's tokenizer.chat_template) with our own Jinja-subset interpreter, the way
// HF transformers renders them (trim_blocks, lstrip_blocks, loop controls, tojson as HF defines
// it, raise_exception, strftime_now). Built-in fallbacks cover models that ship no template.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/common/status.h"

namespace stemma {

namespace jinja {
struct Node;
}

struct ChatTemplateInputs {
  // [{"role": ..., "content": string or [{"type": "text", "text": ...}, ...], "tool_calls": ...}]
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null: no tools (the template sees `tools` as none)
  bool add_generation_prompt = false;
  std::string bos_token;
  std::string eos_token;
  // More variables for the template (enable_thinking, documents, ...).
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  // Parses `source`; syntax errors name line and column ("template:3:14: ...").
  static Result<ChatTemplate> parse(const std::string& source);
  // A built-in template: "chatml", "llama3" or "mistral".
  static Result<ChatTemplate> builtin(const std::string& name);
  static const char* builtin_source(const std::string& name);  // nullptr when unknown

  // Renders the prompt. A template's raise_exception(...) and anything unsupported it reaches
  // (an unknown filter, test or method) come back as errors naming it.
  Result<std::string> render(const ChatTemplateInputs& inputs) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::shared_ptr<const std::vector<std::unique_ptr<jinja::Node>>> body_;
};

}  // namespace stemma
