// Chat templates: renders the Jinja templates models ship (tokenizer_config.json's
// chat_template, GGUF's tokenizer.chat_template) with our own Jinja-subset interpreter, the way
// HF transformers renders them (trim_blocks, lstrip_blocks, loop controls, tojson as HF defines
// it, raise_exception, strftime_now). Built-in fallbacks cover models that ship no template.
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/api/status.h"
#include "engine/tokenizer/chat_template/render_limits.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace stemma {

namespace jinja {
struct Node;
}

// The variables transformers' apply_chat_template passes: messages, tools and documents (None
// when absent), add_generation_prompt, the tokenizer's special tokens, and any extra ones.
struct ChatTemplateInputs {
  // [{"role": ..., "content": string or [{"type": "text", "text": ...}, ...], "tool_calls": ...}]
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;      // null: no tools (the template sees `tools` as None)
  nlohmann::ordered_json documents;  // null: no documents (None, as transformers passes it)
  bool add_generation_prompt = false;
  // The special tokens as transformers passes them (its special_tokens_map: "bos_token",
  // "eos_token", "unk_token", "pad_token", ..., "additional_special_tokens"), only those the
  // tokenizer has; special_tokens_for_template() makes it. When set, bos_token and eos_token
  // below are not used.
  std::optional<nlohmann::ordered_json> special_tokens;
  std::string bos_token;  // without special_tokens: passed as they are (even when empty)
  std::string eos_token;
  // More variables for the template (enable_thinking, ...).
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  RenderLimits limits;  // step / size budget and cancel flag
  // The time strftime_now() formats, as UTC seconds since the epoch (reproducible renders:
  // tests compare with Jinja2 renderings made on another day). Unset: the local clock, now.
  std::optional<std::time_t> now;
};

// The special-token variables transformers would pass for this tokenizer: from
// tokenizer_config.json for HF tokenizers (only the tokens it sets: no invented BOS), from the
// BOS/EOS ids for GGUF ones.
nlohmann::ordered_json special_tokens_for_template(const TokenizerSpec& spec);

class ChatTemplate {
 public:
  // Parses `source`; syntax errors name line and column ("template:3:14: ...").
  static Result<ChatTemplate> parse(const std::string& source);
  // A built-in template: "chatml", "llama3" or "mistral".
  static Result<ChatTemplate> builtin(const std::string& name);
  static const char* builtin_source(const std::string& name);  // nullptr when unknown

  // Renders the prompt. A template's raise_exception(...) and anything unsupported it reaches
  // (an unknown filter, test or method) come back as errors naming it; past inputs.limits,
  // RESOURCE_EXHAUSTED; when its cancel flag is set, CANCELLED; messages, tools or documents
  // nested deeper than 256 levels, INVALID_ARGUMENT.
  Result<std::string> render(const ChatTemplateInputs& inputs) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::shared_ptr<const std::vector<std::unique_ptr<jinja::Node>>> body_;
};

}  // namespace stemma
