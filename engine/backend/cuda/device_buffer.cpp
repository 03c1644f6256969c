#include "engine/backend/cuda/device_buffer.h"

namespace stemma::cuda {

Status cuda_status(cudaError_t err, const std::string& what) {
  if (err == cudaSuccess) return OkStatus();
  const std::string msg = "CUDA: " + what + ": " + cudaGetErrorString(err);
  if (err == cudaErrorMemoryAllocation) return ResourceExhausted(msg);
  return Internal(msg);
}

Status DeviceBuffer::grow(size_t bytes, const std::string& what) {
  if (bytes <= size_ && ptr_ != nullptr) return OkStatus();
  reset();
  void* p = nullptr;
  STEMMA_CUDA_RETURN(cudaMalloc(&p, bytes == 0 ? 1 : bytes),
                     "allocating " + std::to_string(bytes) + " bytes for " + what);
  ptr_ = p;
  size_ = bytes;
  return OkStatus();
}

Status DeviceBuffer::upload(const void* host, size_t bytes, const std::string& what) {
  STEMMA_RETURN_IF_ERROR(grow(bytes, what));
  if (bytes == 0) return OkStatus();
  STEMMA_CUDA_RETURN(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice), "copying " + what);
  return OkStatus();
}

void DeviceBuffer::reset() {
  if (ptr_ != nullptr) cudaFree(ptr_);
  ptr_ = nullptr;
  size_ = 0;
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_ != nullptr) cudaFreeHost(ptr_);
}

Status PinnedBuffer::grow(size_t bytes, const std::string& what) {
  if (bytes <= size_ && ptr_ != nullptr) return OkStatus();
  if (ptr_ != nullptr) cudaFreeHost(ptr_);
  ptr_ = nullptr;
  size_ = 0;
  void* p = nullptr;
  STEMMA_CUDA_RETURN(cudaMallocHost(&p, bytes == 0 ? 1 : bytes),
                     "allocating " + std::to_string(bytes) + " pinned bytes for " + what);
  ptr_ = p;
  size_ = bytes;
  return OkStatus();
}

}  // namespace stemma::cuda
