// EngineOptions: how Engine::open builds an engine: the model file, the backend it runs on, the
// KV cache and batching. (Tests, benchmarks and the CLI may also hand the engine a ready
// executor, weights or tokenizer: engine/engine_internal.h.)
#pragma once

#include <cstdint>
#include <string>

#include "engine/api/status.h"

namespace stemma {

// Where the model runs (backend_from_name / backend_name spell it "auto", "cpu", "cuda").
enum class Backend { kAuto, kCpu, kCuda };

// "auto", "cpu", "cuda" -> Backend (InvalidArgument naming the value otherwise), and back.
Result<Backend> backend_from_name(const std::string& name);
const char* backend_name(Backend b);

struct EngineOptions {
  std::string model_path;  // a .gguf file or an HF folder (config.json + *.safetensors)

  // Where the model runs: kAuto picks the GPU when this build has the CUDA backend and a GPU
  // answers, else the CPU (ModelInfo::backend and backend_note say which and why); kCuda
  // without one is an error naming why (Unsupported: not compiled in; FailedPrecondition: no
  // usable GPU).
  Backend backend = Backend::kAuto;
  int32_t device = 0;                   // GPU index (cuda)
  int64_t gpu_kv_memory_bytes = 0;      // cuda: KV pool cap when num_pages is 0; 0: 90% of the
                                        // memory left after the weights
  bool shared_prefix_attention = true;  // cuda: read a shared cached prefix once per batch

  int32_t threads = 0;     // CPU backend threads; 0: one per hardware thread
  int32_t page_size = 16;  // KV positions per page (cuda: a multiple of 16)
  int32_t num_pages = 0;   // KV pages; 0: as many as kv_memory_bytes (cpu) holds
  int64_t kv_memory_bytes = int64_t{512} << 20;  // cpu KV pool when num_pages is 0
  int32_t max_batch_tokens = 2048;               // tokens per step (prefill chunks + decode tokens)
  int32_t prefill_chunk = 512;    // prompt tokens one request computes per step at most
  int32_t max_running = 256;      // requests in flight at once (others queue)
  bool radix_cache = true;        // prefix sharing on/off (off: the baseline)
  bool cache_aware_order = true;  // longest cached prefix first (false: first come first served)
  int64_t max_wait_steps = 64;    // bound on how long cache-aware order may pass a request over
};

}  // namespace stemma
