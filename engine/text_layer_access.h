// The engine's side of TextLayer (engine/api/text_layer.h): making one over a Tokenizer, and
// reaching the Tokenizer behind one. Internal to engine/ (and tests, through
// engine/engine_internal.h).
#pragma once

#include <memory>

#include "engine/api/text_layer.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::internal {

struct TextLayerAccess {
  // The text layer of `tokenizer`, with the chat template its spec carries (a template that
  // does not parse leaves chat_template_status() Unsupported, not the text layer unusable).
  static std::shared_ptr<const TextLayer> create(std::shared_ptr<const Tokenizer> tokenizer);
  static const Tokenizer& tokenizer(const TextLayer& text);
};

}  // namespace stemma::internal
