#include "engine/tokenizer/chat_template/chat_template.h"

#include <ctime>

#include "engine/tokenizer/chat_template/interpreter.h"
#include "engine/tokenizer/chat_template/parser.h"

namespace stemma {
namespace {

// Our own minimal templates in the formats these families use (the same text is in
// tests/fixtures/tokenizer/templates/builtin-*.jinja, rendered there by Jinja2).
constexpr const char* kChatML =
    "{%- for message in messages %}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "{{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n";

constexpr const char* kLlama3 =
    "{{- bos_token }}\n"
    "{%- for message in messages %}\n"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "{%- endif %}\n";

constexpr const char* kMistral =
    "{%- if messages[0]['role'] == 'system' %}\n"
    "{%- set system_message = messages[0]['content'] + '\\n\\n' %}\n"
    "{%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "{%- set system_message = '' %}\n"
    "{%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') "
    "}}\n"
    "{%- endif %}\n"
    "{%- if message['role'] == 'user' %}\n"
    "{{- '[INST] ' + (system_message if loop.first else '') + message['content'] + ' [/INST]' }}\n"
    "{%- else %}\n"
    "{{- ' ' + message['content'] + eos_token }}\n"
    "{%- endif %}\n"
    "{%- endfor %}\n";

}  // namespace

const char* ChatTemplate::builtin_source(const std::string& name) {
  if (name == "chatml") return kChatML;
  if (name == "llama3") return kLlama3;
  if (name == "mistral") return kMistral;
  return nullptr;
}

Result<ChatTemplate> ChatTemplate::parse(const std::string& source) {
  STEMMA_ASSIGN_OR_RETURN(jinja::Body body, jinja::parse_template(source));
  ChatTemplate t;
  t.source_ = source;
  t.body_ = std::make_shared<const jinja::Body>(std::move(body));
  return t;
}

Result<ChatTemplate> ChatTemplate::builtin(const std::string& name) {
  const char* src = builtin_source(name);
  if (!src) return NotFound("no built-in chat template '" + name + "' (chatml, llama3, mistral)");
  return parse(src);
}

nlohmann::ordered_json special_tokens_for_template(const TokenizerSpec& spec) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (spec.hf_pipeline) {
    for (const auto& [name, text] : spec.special_token_texts) out[name] = text;
    if (!spec.additional_special_tokens.empty()) {
      out["additional_special_tokens"] = spec.additional_special_tokens;
    }
    return out;
  }
  auto text = [&](int32_t id) -> std::optional<std::string> {
    if (id < 0 || id >= static_cast<int32_t>(spec.tokens.size())) return std::nullopt;
    return spec.tokens[id];
  };
  if (auto t = text(spec.bos_id)) out["bos_token"] = *t;
  if (auto t = text(spec.eos_id)) out["eos_token"] = *t;
  if (auto t = text(spec.unk_id)) out["unk_token"] = *t;
  if (auto t = text(spec.pad_id)) out["pad_token"] = *t;
  return out;
}

Result<std::string> ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  if (!inputs.messages.is_array()) return InvalidArgument("chat template: messages must be a list");
  jinja::ValueDict globals;
  try {
    // transformers: render(messages=, tools=, documents=, add_generation_prompt=,
    // **special_tokens_map, **kwargs): later names win.
    auto set = [&](const std::string& name, jinja::Value v) {
      for (auto& [k, old] : globals) {
        if (k == name) {
          old = std::move(v);
          return;
        }
      }
      globals.emplace_back(name, std::move(v));
    };
    set("messages", jinja::Value::from_json(inputs.messages));
    set("tools", jinja::Value::from_json(inputs.tools));
    set("documents", jinja::Value::from_json(inputs.documents));
    set("add_generation_prompt", jinja::Value::boolean(inputs.add_generation_prompt));
    if (inputs.special_tokens) {
      for (const auto& [k, v] : inputs.special_tokens->items()) {
        set(k, jinja::Value::from_json(v));
      }
    } else {
      set("bos_token", jinja::Value::string(inputs.bos_token));
      set("eos_token", jinja::Value::string(inputs.eos_token));
    }
    for (const auto& [k, v] : inputs.extra.items()) set(k, jinja::Value::from_json(v));
    if (inputs.now) {
      const std::time_t now = *inputs.now;
      set("strftime_now",
          jinja::Value::function("strftime_now", [now](jinja::CallArgs& a) -> Result<jinja::Value> {
            std::tm tm{};
            gmtime_r(&now, &tm);
            char buf[256];
            const size_t n = std::strftime(buf, sizeof buf, a.arg(0, "format").str().c_str(), &tm);
            return jinja::Value::string(std::string(buf, n));
          }));
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("chat template inputs: ") + e.what());
  }
  return jinja::render(*body_, globals, inputs.limits);
}

}  // namespace stemma
