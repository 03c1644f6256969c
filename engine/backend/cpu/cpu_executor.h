// CpuExecutor: the ModelExecutor of the CPU backend (Llama family, f32 paged KV cache).
#pragma once

#include <memory>

#include "engine/backend/cpu/kernels.h"
#include "engine/backend/cpu/kv_pool.h"
#include "engine/backend/cpu/llama_forward.h"
#include "engine/backend/cpu/thread_pool.h"
#include "engine/backend/model_executor.h"
#include "engine/model/model_loader.h"

namespace stemma::cpu {

class CpuExecutor final : public ModelExecutor {
 public:
  // `model` stays alive as long as the executor (its weights are read in place).
  // `num_threads` <= 0 means one per hardware thread; more than ThreadPool::kMaxThreads is
  // InvalidArgument, a thread the OS refuses ResourceExhausted. `kv.num_layers`, `num_kv_heads` and
  // `head_dim` may be 0: they are taken from the model.
  static Result<std::unique_ptr<CpuExecutor>> create(std::shared_ptr<const LoadedModel> model,
                                                     KvCacheShape kv, int num_threads);

  const ModelConfig& config() const override { return model_->config; }
  const KvCacheShape& kv_shape() const override { return kv_.shape(); }
  using ModelExecutor::forward;
  Status forward(std::span<const SequenceStep> batch, std::vector<float>& logits) override;
  Status copy_page(int32_t src, int32_t dst, int32_t num_slots) override;

  int num_threads() const { return pool_->size(); }
  Isa isa() const { return kernels_.isa; }

 private:
  CpuExecutor(std::shared_ptr<const LoadedModel> model, const KvCacheShape& kv,
              std::unique_ptr<ThreadPool> pool, const KernelTable& kernels, LlamaWeights weights);

  std::shared_ptr<const LoadedModel> model_;
  const KernelTable& kernels_;
  std::unique_ptr<ThreadPool> pool_;
  KvPool kv_;
  LlamaForward forward_;
};

}  // namespace stemma::cpu
