// HF config.json -> ModelConfig, for the architectures we run (llama family, qwen2, qwen3).
#pragma once

#include <string>

#include "engine/api/status.h"
#include "engine/model/model_config.h"

namespace stemma {

// `json_text` is the content of config.json; `what` names it in errors.
Result<ModelConfig> parse_hf_config(const std::string& json_text, const std::string& what);

}  // namespace stemma
