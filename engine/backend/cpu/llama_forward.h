// One step of a Llama-family model on the CPU over a batch of sequences (prefill chunks and
// decode tokens mixed), reading and writing their K/V in a paged pool.
#pragma once

#include <atomic>
#include <span>
#include <vector>

#include "engine/backend/cpu/kv_pool.h"
#include "engine/backend/cpu/llama_weights.h"
#include "engine/backend/cpu/ops.h"
#include "engine/backend/cpu/thread_pool.h"
#include "engine/backend/model_executor.h"

namespace stemma::cpu {

class LlamaForward {
 public:
  LlamaForward(const ModelConfig& config, LlamaWeights weights, const KernelTable& kernels);

  // Checks `batch` against the pool (token ids, page ids, page coverage), then runs the model.
  // `interrupt` (may be null) raised: the step is abandoned at the next layer, or inside a
  // parallel loop when `pool` checks the same flag, and Cancelled is returned (the contract of
  // ModelExecutor::set_interrupt).
  Status run(std::span<const SequenceStep> batch, ThreadPool& pool, KvPool& kv,
             std::vector<float>& logits, const std::atomic<bool>* interrupt = nullptr);

 private:
  Status validate(std::span<const SequenceStep> batch, const KvPool& kv) const;
  void attention(int64_t layer, ThreadPool& pool, KvPool& kv);

  ModelConfig config_;
  LlamaWeights w_;
  const KernelTable& kernels_;
  Rope rope_;
  // Per-token bookkeeping of the flattened batch.
  std::vector<int32_t> tok_seq_;  // which batch entry the token belongs to
  std::vector<int64_t> tok_pos_;  // its position in the sequence
  std::span<const SequenceStep> batch_;
  // Activations, [tokens, width] row-major.
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_;
  std::vector<float> scores_;  // per thread: one row of attention weights per q head of a group
  std::vector<uint8_t> scratch_;
};

}  // namespace stemma::cpu
