// Runtime: what every SDK object needs from one engine: the engine itself, its text layer
// (engine/api/text_layer.h: tokenizer, chat template; a template override when asked for) and
// the role blocks of the template, derived once. Programs, chat sessions, RAG answers and
// agents share one Runtime (std::shared_ptr), which must not outlive the Engine.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/engine.h"
#include "engine/api/status.h"
#include "engine/api/text_layer.h"
#include "sdk/program/role_blocks.h"

namespace stemma::program {

struct RuntimeOptions {
  // "" (default): the model's own template. Otherwise a built-in name ("chatml", "llama3",
  // "mistral") or Jinja source.
  std::string chat_template;
};

// One chat message, as the SDK passes them around.
struct Message {
  std::string role;  // "system", "user", "assistant", "tool", ...
  std::string content;
  bool operator==(const Message&) const = default;
};

class Runtime {
 public:
  // Fails when the engine has no tokenizer (the SDK works on text) or the template (the
  // override, or the model's own) does not parse.
  static Result<std::shared_ptr<Runtime>> create(Engine& engine, RuntimeOptions options = {});

  Engine& engine() const { return engine_; }
  const TextLayer& text() const { return *text_; }
  // Positions the model takes (prompt + generated).
  int64_t context_length() const { return engine_.context_length(); }

  // Text -> ids without BOS/EOS; special-token text ("<|im_start|>") is recognised.
  std::vector<int32_t> encode(std::string_view text) const { return text_->encode_piece(text); }
  // The same, with the BOS token first when the model wants one (the start of a sequence).
  std::vector<int32_t> encode_start(std::string_view text) const {
    return text_->encode_start(text);
  }
  // A whole rendered prompt: BOS first when the model wants one and the text does not already
  // begin with the BOS text.
  std::vector<int32_t> encode_prompt(std::string_view rendered) const {
    return text_->encode_prompt(rendered);
  }

  // Renders `messages` with the chat template (tools: a JSON array passed as `tools`, or null).
  // FailedPrecondition when there is no template.
  Result<std::string> render_chat(const std::vector<Message>& messages,
                                  const nlohmann::ordered_json& tools,
                                  bool add_generation_prompt) const;
  Result<std::string> render_chat_json(const nlohmann::ordered_json& messages,
                                       const nlohmann::ordered_json& tools,
                                       bool add_generation_prompt) const;
  // Role blocks of the template (FailedPrecondition when there is no template).
  Result<const RoleBlocks*> role_blocks() const;
  bool has_chat_template() const { return text_->has_chat_template(); }
  // Whether the template reads `tools` (then tool definitions are passed to it).
  bool template_uses_tools() const;

  const std::string& bos_text() const { return text_->bos_text(); }
  const std::string& eos_text() const { return text_->eos_text(); }

 private:
  Runtime(Engine& engine, std::shared_ptr<const TextLayer> text)
      : engine_(engine), text_(std::move(text)) {}

  Engine& engine_;
  std::shared_ptr<const TextLayer> text_;
  std::unique_ptr<RoleBlocks> role_blocks_;
};

}  // namespace stemma::program
