// ModelInfo: what the engine tells about the model it runs, for callers that size prompts or
// describe the model (the C ABI's stemma_engine_model_info, the SDK's context checks).
#pragma once

#include <cstdint>
#include <string>

namespace stemma {

struct ModelInfo {
  std::string architecture;  // as the model file names it ("llama", "qwen2", ...)
  int64_t vocab_size = 0;
  int64_t max_position = 0;  // positions the model was trained for; 0: unknown
  // Positions one request may take (prompt + output): max_position, and no more than the KV
  // pool holds. GenerationOptions::max_tokens is capped to it.
  int64_t context_length = 0;
  // A JSON description of the model (architecture, sizes, tensor types, parameter count, rope,
  // tokenizer: what `stemma info` prints) when the engine loaded the model; "{}" otherwise.
  std::string json = "{}";
  // Where the model runs: "cpu" or "cuda" ("executor" when a test handed the engine one), and
  // when EngineOptions::backend was auto, why it picked that ("auto: ..."; empty otherwise).
  std::string backend;
  std::string backend_note;
};

}  // namespace stemma
