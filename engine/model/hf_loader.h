// An HF model folder: config.json + model.safetensors, or shards listed in
// model.safetensors.index.json. Tensors are renamed to GGUF names and used in place.
#pragma once

#include <string>

#include "engine/model/model_loader.h"

namespace stemma {

Result<LoadedModel> load_hf_folder(const std::string& dir);

}  // namespace stemma
