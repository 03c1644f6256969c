#include "engine/backend/cpu/cpu_executor.h"

#include <unistd.h>

#include <algorithm>
#include <limits>
#include <new>
#include <string>
#include <thread>

namespace stemma::cpu {
namespace {

// The KV pool is allocated (and zeroed) up front: a size that overflows, that a page id cannot
// address, or that exceeds the machine's memory is ResourceExhausted here, before the
// allocation (zeroing more than the RAM would get the process killed, not a bad_alloc).
Status check_kv_memory(const KvCacheShape& kv) {
  const std::string shape =
      std::to_string(kv.num_pages) + " pages of " + std::to_string(kv.page_size) + " positions";
  if (kv.num_pages > std::numeric_limits<int32_t>::max() ||
      kv.page_size > std::numeric_limits<int32_t>::max()) {
    return ResourceExhausted("KV cache of " + shape + ": page ids and slots are 32-bit");
  }
  int64_t floats = 2;  // K and V
  for (int64_t f : {kv.num_layers, kv.num_kv_heads, kv.head_dim, kv.page_size, kv.num_pages}) {
    if (__builtin_mul_overflow(floats, f, &floats)) {
      return ResourceExhausted("KV cache of " + shape + " overflows 64-bit sizes");
    }
  }
  int64_t bytes = 0;
  if (__builtin_mul_overflow(floats, int64_t{4}, &bytes)) {
    return ResourceExhausted("KV cache of " + shape + " overflows 64-bit sizes");
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && bytes / page > pages) {
    return ResourceExhausted("KV cache of " + shape + " needs " + std::to_string(bytes) +
                             " bytes; this machine has " +
                             std::to_string(static_cast<int64_t>(pages) * page));
  }
  return OkStatus();
}

}  // namespace

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
  STEMMA_RETURN_IF_ERROR(check_kv_memory(kv));
  if (num_threads <= 0)
    num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const KernelTable& kernels = cpu::kernels();
  STEMMA_ASSIGN_OR_RETURN(LlamaWeights weights, bind_llama_weights(*model, kernels));
  STEMMA_ASSIGN_OR_RETURN(std::unique_ptr<ThreadPool> pool, ThreadPool::create(num_threads));
  try {
    return std::unique_ptr<CpuExecutor>(
        new CpuExecutor(std::move(model), kv, std::move(pool), kernels, std::move(weights)));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("CpuExecutor: out of memory for a KV cache of " +
                             std::to_string(kv.num_pages) + " pages of " +
                             std::to_string(kv.page_size) + " positions");
  }
}

CpuExecutor::CpuExecutor(std::shared_ptr<const LoadedModel> model, const KvCacheShape& kv,
                         std::unique_ptr<ThreadPool> pool, const KernelTable& kernels,
                         LlamaWeights weights)
    : model_(std::move(model)),
      kernels_(kernels),
      pool_(std::move(pool)),
      kv_(kv),
      forward_(model_->config, std::move(weights), kernels) {}

Status CpuExecutor::forward(std::span<const SequenceStep> batch, std::vector<float>& logits) {
  // The pool checks the interrupt flag before each task of this step's parallel loops (blocks
  // of matmul rows and panels, attention by token and head), and only during this step.
  const std::atomic<bool>* flag = interrupt_flag();
  if (flag != nullptr && flag->load(std::memory_order_relaxed)) {
    return Cancelled("step interrupted (a request in it was cancelled) before it started");
  }
  pool_->set_interrupt(flag);
  Status s = forward_.run(batch, *pool_, kv_, logits, flag);
  pool_->set_interrupt(nullptr);
  return s;
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
