// The contract between the scheduler and a backend (CPU now, CUDA later): run one step of the
// model over a batch of sequences whose KV cache lives in pages of a shared pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/api/status.h"
#include "engine/model/model_config.h"

namespace stemma {
namespace attn {
struct BatchSegments;  // engine/attn/shared_pages.h
}

// The KV pool the backend owns. Page p of layer l holds K and V for `page_size` consecutive
// positions of one sequence, laid out [kv_head][slot][head_dim] (HND: one head's tile of a page
// is contiguous, which is what the shared-prefix kernel loads).
struct KvCacheShape {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t page_size = 16;
  int64_t num_pages = 0;
};

struct SequenceStep {
  std::span<const int32_t> tokens;  // the new tokens of this step (a prefill chunk or 1 decode)
  int32_t past_len = 0;             // positions already cached; the new ones start here
  std::span<const int32_t> pages;   // page ids covering positions [0, past_len + tokens.size())
  bool all_logits = false;          // false: logits of the last new token only
  // Only the argmax of the last new token's logits is wanted (a greedy pick with nothing
  // applied to the row, or a prefill chunk whose row is not used). Honoured only by a backend
  // whose supports_argmax_rows() is true; never set together with all_logits.
  bool argmax_only = false;
};

class ModelExecutor {
 public:
  virtual ~ModelExecutor() = default;
  virtual const ModelConfig& config() const = 0;
  virtual const KvCacheShape& kv_shape() const = 0;

  // Writes K/V of every new token into its page slot, attends over [0, past_len + i], and
  // appends logits rows (vocab_size floats each) to `logits` in batch order.
  virtual Status forward(std::span<const SequenceStep> batch, std::vector<float>& logits) = 0;

  // The same, told which KV segments the sequences share (attn::group_shared_pages over the
  // pages the radix tree handed out; `shared` is laid out for exactly this batch). A backend
  // whose attention reads a shared segment once per group (the CUDA one) plans with it; the
  // default ignores it.
  virtual Status forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                         std::vector<float>& logits) {
    (void)shared;
    return forward(batch, logits);
  }

  // True when this backend can return argmax_only steps as token ids (the forward below), so
  // that their logits rows need not leave the device. Default: no (argmax_only is ignored).
  virtual bool supports_argmax_rows() const { return false; }

  // The same, with argmax_only steps answered in `argmax` (batch order, one id per such step:
  // the index of the largest logit, the lowest on ties, -1 when every logit is NaN or -inf, as
  // sampling::argmax) instead of a row in `logits`. The default ignores argmax_only: every step
  // gets its logits rows (callers check supports_argmax_rows() before setting it).
  virtual Status forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                         std::vector<float>& logits, std::vector<int32_t>& argmax) {
    (void)argmax;
    return forward(batch, shared, logits);
  }

  // Copies the first `num_slots` positions of page `src` to page `dst` in every layer
  // (copy-on-write of a partly shared last page).
  virtual Status copy_page(int32_t src, int32_t dst, int32_t num_slots) = 0;

  // Interrupting a step (issue 15 item 11): `flag` (nullptr: none) is raised by another thread
  // when the step in flight is to be abandoned because a request in it was cancelled. A backend
  // that honours it checks it inside forward() (between layers, and between blocks of the large
  // matmuls and attention of a big prefill chunk) and then returns a Cancelled status. An
  // abandoned forward appends no logits the caller may use and writes K/V only at the batch's
  // new positions (past_len onward), which the caller treats as not computed: the same step,
  // run again, recomputes them. The flag may also be raised before forward() starts (return
  // Cancelled at once) and is lowered only between forwards, by its owner (the scheduler,
  // engine/sched/step_interrupt.h). A backend that never checks it is correct, only slower to
  // cancel. Set before the first forward; the flag must outlive the executor's use of it.
  void set_interrupt(const std::atomic<bool>* flag) { interrupt_ = flag; }
  const std::atomic<bool>* interrupt_flag() const { return interrupt_; }

 protected:
  bool interrupted() const {
    return interrupt_ != nullptr && interrupt_->load(std::memory_order_relaxed);
  }

 private:
  const std::atomic<bool>* interrupt_ = nullptr;
};

}  // namespace stemma
