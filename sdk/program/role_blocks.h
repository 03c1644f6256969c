// Role blocks: the text a chat template writes before and after one message of a role, so that a
// program can write `prefix + content + suffix` (or open a block, generate, close it) and get
// exactly what the template would have rendered for that message.
//
// Derived by rendering the template around sentinel contents and splitting (SGLang keeps such a
// table by hand; we read it off the template the model ships). A role's block must be the same
// wherever the message stands (after a user turn, after a later assistant turn...), and a system
// message must render as a block of its own; templates that merge the system prompt into the
// first user turn (Llama 2, Mistral) or render a role differently by position cannot be split,
// and block() says so by name. Templates that rewrite an earlier message when another follows
// (Qwen3 drops the reasoning of earlier answers) are followed as of when each message was the
// latest: that is append-only, as a program is. A template that appends the generation prompt
// whatever add_generation_prompt says (the original Llama 3 one) is handled too. Contents are
// inserted verbatim: a template that transforms content (e.g. `| trim`) is reproduced for the
// markup, not for the content.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/api/status.h"

namespace stemma::program {

struct RoleBlock {
  std::string prefix;  // e.g. "<|im_start|>user\n"
  std::string suffix;  // e.g. "<|im_end|>\n"
};

// Renders a conversation with the chat template (TextLayer::render_chat without tools).
using ChatRenderer = std::function<Result<std::string>(const nlohmann::ordered_json& messages,
                                                       bool add_generation_prompt)>;

class RoleBlocks {
 public:
  // `bos_text`: the text the template sees as bos_token. A BOS text the template writes at the
  // very start is left out of the system block (the tokenizer adds the BOS token itself).
  RoleBlocks(ChatRenderer renderer, std::string bos_text);

  // The block of a complete message of `role` ("system", "user", "assistant", "tool", ...),
  // derived on first use and cached. Thread-safe.
  Result<RoleBlock> block(const std::string& role) const;
  // The block a generated message of `role` is written in: for "assistant" the prefix is what
  // the template appends for add_generation_prompt (the text the model was trained to continue
  // after), when it appends anything; the suffix is the role's own.
  Result<RoleBlock> generation_block(const std::string& role) const;
  // What add_generation_prompt appends after a user message ("" when the template has none).
  Result<std::string> generation_prompt() const;

 private:
  Result<std::string> render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                             const std::string& what) const;
  // render(base + [{role, content}]) minus render(base); fails unless the first extends the
  // second.
  Result<std::string> delta(const nlohmann::ordered_json& base, const std::string& role,
                            const std::string& content) const;
  Result<RoleBlock> derive(const std::string& role) const;
  void find_tail();
  std::string strip_tail(std::string text) const;

  ChatRenderer renderer_;
  std::string bos_token_;
  std::string tail_;  // what the template writes at the end of every rendering (usually "")
  mutable std::mutex mu_;
  mutable std::map<std::string, Result<RoleBlock>> cache_;
};

}  // namespace stemma::program
