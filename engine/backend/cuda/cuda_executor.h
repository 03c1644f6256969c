// CudaExecutor: the ModelExecutor of the CUDA backend (Llama family). Weights stay on the GPU in
// their file's formats; the KV pool lives in GPU memory in the layout the attention kernels
// read (kernels/attention_item.h); each step's attention follows a plan built from the KV
// segments the step's requests share (engine/attn), so a cached prefix is read once per group.
// The residual stream is fp32; matmul inputs and KV pages are in the compute type (fp32 for fp32
// models, else the weights' 16-bit type: bf16 for quantized ones).
//
// One thread at a time: the engine's worker thread calls forward / copy_page.
#pragma once

#include <memory>

#include "engine/backend/cuda_backend.h"
#include "engine/backend/model_executor.h"
#include "engine/model/model_loader.h"

namespace stemma::cuda {

class CudaExecutor final : public ModelExecutor {
 public:
  // `kv.num_pages` 0: as many pages as the memory left after the weights allows, capped by
  // options.kv_memory_bytes. kv.page_size must be a multiple of 16.
  static Result<std::unique_ptr<CudaExecutor>> create(std::shared_ptr<const LoadedModel> model,
                                                      KvCacheShape kv, const CudaOptions& options);
  ~CudaExecutor() override;

  const ModelConfig& config() const override;
  const KvCacheShape& kv_shape() const override;
  Status forward(std::span<const SequenceStep> batch, std::vector<float>& logits) override;
  Status forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                 std::vector<float>& logits) override;
  // argmax_only steps are picked on the GPU: only their ids are copied back.
  bool supports_argmax_rows() const override { return true; }
  Status forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                 std::vector<float>& logits, std::vector<int32_t>& argmax) override;
  Status copy_page(int32_t src, int32_t dst, int32_t num_slots) override;

  // Facts for logs and benchmarks.
  struct Info {
    std::string device_name;
    int device = 0;
    size_t weight_bytes = 0;
    size_t kv_bytes = 0;
    const char* compute_type = "";
    int64_t steps = 0;
    int64_t shared_plans = 0;  // steps whose attention plan read a segment for several requests
  };
  Info info() const;

 private:
  struct Impl;
  explicit CudaExecutor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stemma::cuda
