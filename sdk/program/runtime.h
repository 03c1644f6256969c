// Runtime: what every SDK object needs from one engine, built once per engine: its tokenizer
// (text <-> tokens, BOS as the model says), its chat template (rendering conversations, role
// blocks for programs) and its context length. Programs, chat sessions, RAG answers and agents
// share one Runtime (std::shared_ptr), which must not outlive the Engine.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/engine.h"
#include "engine/api/status.h"
#include "engine/tokenizer/chat_template/chat_template.h"
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
};

class Runtime {
 public:
  // Fails when the engine has no tokenizer (the SDK works on text) or the template override
  // does not parse.
  static Result<std::shared_ptr<Runtime>> create(Engine& engine, RuntimeOptions options = {});

  Engine& engine() const { return engine_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  // Positions the model takes (prompt + generated).
  int32_t context_length() const { return context_length_; }

  // Text -> ids without BOS/EOS; special-token text ("<|im_start|>") is recognised.
  std::vector<int32_t> encode(std::string_view text) const;
  // The same, with the BOS token first when the model wants one (the start of a sequence).
  std::vector<int32_t> encode_start(std::string_view text) const;
  // A whole rendered prompt: BOS first when the model wants one and the text does not already
  // begin with the BOS text.
  std::vector<int32_t> encode_prompt(std::string_view rendered) const;

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
  bool has_chat_template() const { return template_.has_value(); }
  // Whether the template reads `tools` (then tool definitions are passed to it).
  bool template_uses_tools() const;

  const std::string& bos_text() const { return bos_text_; }
  const std::string& eos_text() const { return eos_text_; }

 private:
  Runtime(Engine& engine, const Tokenizer& tokenizer) : engine_(engine), tokenizer_(tokenizer) {}

  Engine& engine_;
  const Tokenizer& tokenizer_;
  int32_t context_length_ = 2048;
  std::string bos_text_, eos_text_;
  std::optional<ChatTemplate> template_;
  std::unique_ptr<RoleBlocks> role_blocks_;
};

}  // namespace stemma::program
