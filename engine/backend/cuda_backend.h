// Choosing and opening a backend: what the engine asks for by name, whether or not this build
// has CUDA (without it, asking for cuda is a clear error and auto picks the CPU).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/api/engine_options.h"  // Backend, backend_from_name
#include "engine/api/status.h"
#include "engine/backend/model_executor.h"
#include "engine/model/model_loader.h"

namespace stemma {

struct CudaOptions {
  int device = 0;
  // KV pool cap when the page count is not given; 0: 90% of the memory free after the weights.
  int64_t kv_memory_bytes = 0;
  // Attention plans may read a segment shared by several requests once for all of them (the
  // shared-prefix kernel); false forces the per-request baseline plan (for comparisons).
  bool shared_prefix_attention = true;
};

// Whether this build has the CUDA backend and a usable GPU is present (with its name).
bool cuda_backend_built();
Result<std::string> cuda_device_name(int device);

// Opens the CUDA executor (Unsupported when built without CUDA; FailedPrecondition when no GPU
// is usable, naming the CUDA error).
Result<std::unique_ptr<ModelExecutor>> open_cuda_executor(std::shared_ptr<const LoadedModel> model,
                                                          KvCacheShape kv,
                                                          const CudaOptions& options);

}  // namespace stemma
