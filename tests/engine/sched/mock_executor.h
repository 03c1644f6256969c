// A ModelExecutor for tests whose output depends on exactly what it reads back from its pages.
//
// Each KV slot stores a hash of (token id, position). The logits of a position are a hash of
// every slot value it reads, in order, through the sequence's page table. So a wrong page
// (shared when it should not be, evicted and reused, copied short) changes the logits and, with
// overwhelming probability, the greedy token. reference_logits() computes the same logits from
// the token list alone, with no pages: the truth that paged generation must reproduce.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/backend/model_executor.h"

namespace stemma::testing {

class MockExecutor : public ModelExecutor {
 public:
  MockExecutor(int64_t vocab_size, int32_t page_size, int32_t num_pages);

  const ModelConfig& config() const override { return config_; }
  const KvCacheShape& kv_shape() const override { return shape_; }
  using ModelExecutor::forward;
  Status forward(std::span<const SequenceStep> batch, std::vector<float>& logits) override;
  Status copy_page(int32_t src, int32_t dst, int32_t num_slots) override;
  // With set_argmax_rows(true) the mock answers argmax_only steps with ids, as a GPU backend
  // does (the argmax of the row it would have returned).
  bool supports_argmax_rows() const override { return argmax_rows_; }
  Status forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                 std::vector<float>& logits, std::vector<int32_t>& argmax) override;
  void set_argmax_rows(bool on) { argmax_rows_ = on; }
  int64_t argmax_rows_served() const { return argmax_served_; }

  // Logits of the last token of `tokens` computed from the tokens alone.
  static void reference_logits(std::span<const int32_t> tokens, int64_t vocab_size,
                               std::vector<float>& out);
  // Greedy continuation with no KV cache at all (stops at max_tokens or a stop token).
  static std::vector<int32_t> reference_greedy(std::vector<int32_t> prompt, int64_t vocab_size,
                                               int32_t max_tokens,
                                               std::span<const int32_t> stop_ids = {});

  ModelConfig& mutable_config() { return config_; }
  void fail_next_forward() { fail_next_ = true; }
  // Called at the start of every forward with the batch: a test raises the interrupt here, as
  // a cancel from another thread does while a step runs.
  void on_forward(std::function<void(std::span<const SequenceStep>)> fn) {
    on_forward_ = std::move(fn);
  }
  // Forwards that saw the interrupt raised (set_interrupt): they wrote garbage into every new
  // slot of the batch (the worst an abandoned step may leave) and returned Cancelled.
  int64_t interrupted_forwards() const { return interrupted_; }
  int64_t forwards() const { return forwards_; }
  int64_t copies() const { return copies_; }
  int64_t tokens_computed() const { return tokens_computed_; }
  size_t max_batch_seen() const { return max_batch_; }

 private:
  uint64_t& slot(int32_t page, int32_t index) {
    return slots_[static_cast<size_t>(page) * shape_.page_size + index];
  }

  ModelConfig config_;
  KvCacheShape shape_;
  std::vector<uint64_t> slots_;
  bool fail_next_ = false;
  bool argmax_rows_ = false;
  int64_t argmax_served_ = 0;
  std::function<void(std::span<const SequenceStep>)> on_forward_;
  int64_t interrupted_ = 0;
  int64_t forwards_ = 0;
  int64_t copies_ = 0;
  int64_t tokens_computed_ = 0;
  size_t max_batch_ = 0;
};

}  // namespace stemma::testing
