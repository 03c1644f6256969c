// TextLayer: the model's text, as every layer above the engine sees it: text <-> token ids (BOS
// as the model says), the chat template, and the BOS/EOS texts a template is given. The engine
// builds one when it opens a model that carries a tokenizer (Engine::text); the SDK and the C
// ABI both use it instead of building their own.
//
// Thread-safe: every method is const and may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"

namespace stemma {

namespace internal {
struct TextLayerAccess;
}

class TextLayer {
 public:
  ~TextLayer();
  TextLayer(const TextLayer&) = delete;
  TextLayer& operator=(const TextLayer&) = delete;

  // ---- tokens ----
  // Text -> ids. add_special: BOS/EOS as the model says; parse_special: special-token text
  // ("<|im_start|>") is that token, else plain text.
  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special = true) const;
  // A piece of a sequence: no BOS/EOS; special-token text is recognised.
  std::vector<int32_t> encode_piece(std::string_view text) const;
  // The start of a sequence: the BOS token first when the model wants one, then encode_piece.
  std::vector<int32_t> encode_start(std::string_view text) const;
  // A whole rendered prompt: as encode_start, unless the text already begins with the BOS text
  // (a template that writes BOS itself).
  std::vector<int32_t> encode_prompt(std::string_view rendered) const;
  // Ids -> text (bytes that do not form UTF-8 become U+FFFD). skip_special leaves out control
  // tokens (BOS, EOS, <|im_end|>, ...). Ids outside the vocabulary are an error naming them.
  Result<std::string> decode(std::span<const int32_t> ids, bool skip_special = false) const;

  int32_t vocab_size() const;
  int32_t bos_id() const;  // -1: none
  int32_t eos_id() const;  // -1: none
  bool is_control(int32_t id) const;
  int32_t token_to_id(std::string_view token) const;  // the id of a token's stored text, or -1
  const std::string& bos_text() const;                // "" when there is no BOS token
  const std::string& eos_text() const;

  // ---- chat template ----
  // OK when render_chat can be used; else FailedPrecondition (the model ships no template) or
  // Unsupported (it ships one this interpreter cannot parse, with the parse error).
  const Status& chat_template_status() const;
  bool has_chat_template() const { return chat_template_status().ok(); }
  const std::string& chat_template_source() const;  // "" without a template
  // Renders `messages` ([{"role": ..., "content": ...}, ...], extra keys allowed) with the
  // template; `tools`: a JSON array passed to the template as `tools`, or null.
  Result<std::string> render_chat(const nlohmann::ordered_json& messages,
                                  const nlohmann::ordered_json& tools,
                                  bool add_generation_prompt) const;
  // The same text layer with another chat template: a built-in name ("chatml", "llama3",
  // "mistral") or Jinja source. Fails when it does not parse.
  Result<std::shared_ptr<const TextLayer>> with_chat_template(
      std::string_view name_or_source) const;

 private:
  struct Impl;
  explicit TextLayer(std::unique_ptr<Impl> impl);
  friend struct internal::TextLayerAccess;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stemma
