#include "engine/tokenizer/chat_template/chat_template.h"

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

Result<std::string> ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  if (!inputs.messages.is_array()) return InvalidArgument("chat template: messages must be a list");
  jinja::ValueDict globals;
  try {
    for (const auto& [k, v] : inputs.extra.items()) {
      globals.emplace_back(k, jinja::Value::from_json(v));
    }
    globals.emplace_back("messages", jinja::Value::from_json(inputs.messages));
    globals.emplace_back("tools", jinja::Value::from_json(inputs.tools));
    globals.emplace_back("add_generation_prompt",
                         jinja::Value::boolean(inputs.add_generation_prompt));
    globals.emplace_back("bos_token", jinja::Value::string(inputs.bos_token));
    globals.emplace_back("eos_token", jinja::Value::string(inputs.eos_token));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("chat template inputs: ") + e.what());
  }
  return jinja::render(*body_, globals);
}

}  // namespace stemma
