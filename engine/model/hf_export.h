// Writing a model as an HF folder (config.json + model.safetensors) that transformers loads:
// what the reference suite (tools/fixtures) gives HF transformers, from the same seeded weights
// Stemma's tests generate.
#pragma once

#include <string>
#include <string_view>

#include "engine/api/status.h"
#include "engine/model/model_loader.h"

namespace stemma {

// Writes `dir`/config.json (the text given, verbatim) and `dir`/model.safetensors with every
// tensor of `model` under its HF name, stored as `type` (F32, F16 or BF16; norms and biases
// too, as HF checkpoints store them). Creates `dir` if needed. Refuses models whose Q/K rows are
// in GGUF's interleaved rope layout (HF rotates halves) and tensors without an HF name.
Status export_hf_folder(const LoadedModel& model, const std::string& dir, DType type,
                        std::string_view config_json);

}  // namespace stemma
