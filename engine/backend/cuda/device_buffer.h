// GPU memory owned by the CUDA backend, and CUDA errors as Status.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "engine/api/status.h"

namespace stemma::cuda {

// OkStatus for cudaSuccess; else ResourceExhausted (out of memory) or Internal, naming `what`.
Status cuda_status(cudaError_t err, const std::string& what);

#define STEMMA_CUDA_RETURN(expr, what)                              \
  do {                                                              \
    const cudaError_t stemma_cuda_err_ = (expr);                    \
    if (stemma_cuda_err_ != cudaSuccess)                            \
      return ::stemma::cuda::cuda_status(stemma_cuda_err_, (what)); \
  } while (0)

// A cudaMalloc'd block; move-only. grow() reallocates (contents lost) when too small.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  Status grow(size_t bytes, const std::string& what);
  // Allocates `bytes` and copies `host` into it (synchronously).
  Status upload(const void* host, size_t bytes, const std::string& what);
  void reset();

  void* data() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t size() const { return size_; }

 private:
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

// Page-locked host memory (fast, asynchronous copies).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  Status grow(size_t bytes, const std::string& what);
  void* data() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace stemma::cuda
