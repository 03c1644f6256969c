// The CUDA backend's entry points (built with CUDA).
#include <cuda_runtime_api.h>

#include "engine/backend/cuda/cuda_executor.h"
#include "engine/backend/cuda_backend.h"

namespace stemma {

bool cuda_backend_built() {
  return true;
}

Result<std::string> cuda_device_name(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    return FailedPrecondition(std::string("backend 'cuda': no usable GPU (") +
                              cudaGetErrorString(err) + ")");
  }
  if (device < 0 || device >= count) {
    return FailedPrecondition("backend 'cuda': GPU " + std::to_string(device) + " requested, " +
                              std::to_string(count) + " present");
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess)
    return FailedPrecondition("backend 'cuda': cannot query GPU " + std::to_string(device));
  return std::string(prop.name);
}

Result<std::unique_ptr<ModelExecutor>> open_cuda_executor(std::shared_ptr<const LoadedModel> model,
                                                          KvCacheShape kv,
                                                          const CudaOptions& options) {
  STEMMA_RETURN_IF_ERROR(cuda_device_name(options.device).status());
  STEMMA_ASSIGN_OR_RETURN(auto ex, cuda::CudaExecutor::create(std::move(model), kv, options));
  return std::unique_ptr<ModelExecutor>(std::move(ex));
}

}  // namespace stemma
