#include "engine/backend/cpu/cpu_executor.h"

#include <algorithm>
#include <string>
#include <thread>

namespace stemma::cpu {

Result<std::unique_ptr<CpuExecutor>> CpuExecutor::create(std::shared_ptr<const LoadedModel> model,
                                                         KvCacheShape kv, int num_threads) {
  if (!model) return InvalidArgument("CpuExecutor: no model");
  const ModelConfig& c = model->config;
  if (kv.num_layers == 0) kv.num_layers = c.num_layers;
  if (kv.num_kv_heads == 0) kv.num_kv_heads = c.num_kv_heads;
  if (kv.head_dim == 0) kv.head_dim = c.head_dim;
  if (kv.num_layers != c.num_layers || kv.num_kv_heads != c.num_kv_heads ||
      kv.head_dim != c.head_dim) {
    return InvalidArgument("CpuExecutor: KV shape (layers " + std::to_string(kv.num_layers) +
                           ", kv heads " + std::to_string(kv.num_kv_heads) + ", head_dim " +
                           std::to_string(kv.head_dim) + ") does not match the model");
  }
  if (kv.page_size <= 0 || kv.num_pages <= 0) {
    return InvalidArgument("CpuExecutor: page_size and num_pages must be positive");
  }
  if (num_threads <= 0)
    num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const KernelTable& kernels = cpu::kernels();
  STEMMA_ASSIGN_OR_RETURN(LlamaWeights weights, bind_llama_weights(*model, kernels));
  return std::unique_ptr<CpuExecutor>(
      new CpuExecutor(std::move(model), kv, num_threads, kernels, std::move(weights)));
}

CpuExecutor::CpuExecutor(std::shared_ptr<const LoadedModel> model, const KvCacheShape& kv,
                         int num_threads, const KernelTable& kernels, LlamaWeights weights)
    : model_(std::move(model)),
      kernels_(kernels),
      pool_(num_threads),
      kv_(kv),
      forward_(model_->config, std::move(weights), kernels) {}

Status CpuExecutor::forward(std::span<const SequenceStep> batch, std::vector<float>& logits) {
  return forward_.run(batch, pool_, kv_, logits);
}

Status CpuExecutor::copy_page(int32_t src, int32_t dst, int32_t num_slots) {
  const KvCacheShape& s = kv_.shape();
  if (src < 0 || src >= s.num_pages || dst < 0 || dst >= s.num_pages) {
    return OutOfRange("copy_page: page " +
                      std::to_string(src < 0 || src >= s.num_pages ? src : dst) +
                      " is outside the pool of " + std::to_string(s.num_pages));
  }
  if (num_slots < 0 || num_slots > s.page_size) {
    return OutOfRange("copy_page: " + std::to_string(num_slots) + " slots, a page has " +
                      std::to_string(s.page_size));
  }
  if (src == dst) return OkStatus();
  const size_t n = static_cast<size_t>(num_slots * s.head_dim);
  for (int64_t l = 0; l < s.num_layers; ++l) {
    for (int64_t h = 0; h < s.num_kv_heads; ++h) {
      std::copy_n(kv_.k(l, src, h, 0), n, kv_.k(l, dst, h, 0));
      std::copy_n(kv_.v(l, src, h, 0), n, kv_.v(l, dst, h, 0));
    }
  }
  return OkStatus();
}

}  // namespace stemma::cpu
