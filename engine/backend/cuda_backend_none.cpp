// The CUDA backend's entry points in a build without CUDA.
#include "engine/backend/cuda_backend.h"

namespace stemma {

bool cuda_backend_built() {
  return false;
}

Result<std::string> cuda_device_name(int) {
  return Unsupported("this build of Stemma has no CUDA backend (configure with STEMMA_CUDA=ON)");
}

Result<std::unique_ptr<ModelExecutor>> open_cuda_executor(std::shared_ptr<const LoadedModel>,
                                                          KvCacheShape, const CudaOptions&) {
  return Unsupported(
      "backend 'cuda': this build of Stemma has no CUDA backend (configure with "
      "STEMMA_CUDA=ON where nvcc is installed)");
}

}  // namespace stemma
