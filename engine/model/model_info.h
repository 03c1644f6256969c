// A JSON summary of a model (what `stemma info` prints): architecture, sizes, tensor types,
// parameter count, rope, tokenizer.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/model/model_loader.h"

namespace stemma {

nlohmann::json model_info_json(const LoadedModel& model);
// The same for a dummy model of `config` stored as `weight_type`, without generating weights.
nlohmann::json dummy_model_info_json(const ModelConfig& config, DType weight_type);

}  // namespace stemma
