#include "cli/backend_args.h"

namespace stemma::cli {

Status apply_backend_args(const Args& args, EngineOptions* opts) {
  STEMMA_ASSIGN_OR_RETURN(opts->backend, backend_from_name(args.get_or("backend", "auto")));
  STEMMA_ASSIGN_OR_RETURN(int64_t device, args.get_int("device", 0));
  if (device < 0 || device > 1024) return InvalidArgument("--device " + std::to_string(device));
  opts->device = static_cast<int32_t>(device);
  STEMMA_ASSIGN_OR_RETURN(int64_t mib, args.get_int("gpu-kv-mib", 0));
  if (mib < 0 || mib > (int64_t{1} << 30))
    return InvalidArgument("--gpu-kv-mib " + std::to_string(mib));
  opts->gpu_kv_memory_bytes = mib << 20;
  opts->shared_prefix_attention = !args.has(kBackendFlag);
  return OkStatus();
}

Result<std::unique_ptr<ModelExecutor>> open_executor(const Args& args,
                                                     std::shared_ptr<const LoadedModel> model,
                                                     KvCacheShape kv, int threads) {
  EngineOptions o;
  STEMMA_RETURN_IF_ERROR(apply_backend_args(args, &o));
  Backend b = o.backend;
  if (b == Backend::kAuto)
    b = cuda_backend_built() && cuda_device_name(o.device).ok() ? Backend::kCuda : Backend::kCpu;
  if (b == Backend::kCuda) {
    CudaOptions co;
    co.device = o.device;
    co.kv_memory_bytes = o.gpu_kv_memory_bytes;
    co.shared_prefix_attention = o.shared_prefix_attention;
    return open_cuda_executor(std::move(model), kv, co);
  }
  STEMMA_ASSIGN_OR_RETURN(auto cpu, cpu::CpuExecutor::create(std::move(model), kv, threads));
  return std::unique_ptr<ModelExecutor>(std::move(cpu));
}

}  // namespace stemma::cli
