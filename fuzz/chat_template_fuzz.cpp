// Fuzz target: chat templates. The input is a 16-bit length, the template's source, then the
// messages as JSON (a fixed conversation with tools when that part is not a JSON array). The
// template is parsed and rendered the way a model's template is at stemma_chat_format.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/tokenizer/chat_template/chat_template.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stemma;
  fuzz::Reader r(data, size);
  const std::string source(r.part16());
  const uint8_t flags = r.byte();
  const std::string messages(r.rest());
  auto tmpl = ChatTemplate::parse(source);
  if (!tmpl.ok()) return 0;
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(messages, nullptr, false);
  if (in.messages.is_discarded() || !in.messages.is_array()) {
    in.messages = nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
        "function": {"name": "weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "content": "{\"temp\": 21}"},
      {"role": "user", "content": [{"type": "text", "text": "Thanks"}]}])");
  }
  if (flags & 1) {
    in.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
      "name": "weather", "description": "Current weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])");
  }
  in.add_generation_prompt = (flags & 2) != 0;
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  if (flags & 4) in.extra["enable_thinking"] = true;
  (void)tmpl->render(in);
  return 0;
}
