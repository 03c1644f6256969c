// The options every command that runs a model shares to choose where it runs:
//   --backend auto|cpu|cuda   (default auto: the GPU when this build has CUDA and one answers)
//   --device N                (GPU index)
//   --gpu-kv-mib N            (cuda: KV pool cap; default 90% of the memory left)
//   --baseline-attention      (cuda: no shared-prefix reads; the comparison plan)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "engine/api/engine.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cuda_backend.h"

namespace stemma::cli {

inline constexpr const char* kBackendFlag = "baseline-attention";
// A command's own value options plus --backend, --device and --gpu-kv-mib (cli/args.h: every
// option is declared).
inline std::vector<std::string> with_backend_options(std::vector<std::string> own) {
  own.insert(own.end(), {"backend", "device", "gpu-kv-mib"});
  return own;
}

// Fills the backend fields of `opts` from the arguments.
Status apply_backend_args(const Args& args, EngineOptions* opts);

// An executor for commands that drive one directly (bench): CPU with `threads`, or CUDA.
Result<std::unique_ptr<ModelExecutor>> open_executor(const Args& args,
                                                     std::shared_ptr<const LoadedModel> model,
                                                     KvCacheShape kv, int threads);

}  // namespace stemma::cli
