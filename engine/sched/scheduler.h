// The continuous-batching scheduler: it decides what runs. One step() = pick requests, give
// them KV pages (cached prefix from the radix tree + fresh pages), run one mixed batch of
// prefill chunks and decode tokens through the ModelExecutor (one forward call, in
// run_forward), hand each request whose last token was computed to the token pipeline
// (engine/sample/token_pipeline.h: sample, accept, stop, jump-forward, detokenize), and cache
// what was computed. Single-threaded: the Engine drives it from its worker thread.
//
// Policies (why):
// - Running requests go first, oldest first: finishing work frees pages and bounds latency.
// - Queued requests are admitted longest-cached-prefix first (cache-aware order, as SGLang's
//   LPM), but a request that has waited more than max_wait_steps goes ahead of all others in
//   arrival order, so no request starves.
// - A request whose prompt shares more than a page beyond its cached prefix with a request that
//   is still prefilling waits for that request's pages to land in the tree instead of computing
//   the same prefix twice (bounded by max_wait_steps too).
// - When pages run out: evict least recently used unlocked tree leaves; if that is not enough,
//   preempt the most recently admitted running request (its computed pages go into the tree, so
//   recompute is often a cache hit), never the oldest. A request that could not fit the pool
//   even alone is refused at add().
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/api/engine_stats.h"
#include "engine/api/status.h"
#include "engine/backend/model_executor.h"
#include "engine/kv/page_pool.h"
#include "engine/kv/radix_tree.h"
#include "engine/sample/token_pipeline.h"
#include "engine/sched/request.h"
#include "engine/sched/step_interrupt.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::sched {

struct SchedulerOptions {
  int32_t max_batch_tokens = 2048;  // tokens per forward (prefill chunks + decodes)
  int32_t prefill_chunk = 512;      // a prefilling request advances at most this much per step
  int32_t max_running = 256;        // requests holding pages at once
  bool radix_cache = true;          // false: no prefix sharing (the baseline)
  bool cache_aware_order = true;    // false: first come, first served
  int64_t max_wait_steps = 64;      // a queued request waits at most this many steps to be
                                    // preferred over others (then it goes first)
  int32_t order_window = 256;       // queued requests ranked per step (the oldest ones)
  // Text of outputs, stop strings and jump-forward re-tokenization need it (must outlive the
  // scheduler; the token pipeline uses it); without one, outputs are token ids only.
  const Tokenizer* tokenizer = nullptr;
  // Cancels that abandon the step in flight (must outlive the scheduler; its flag is handed to
  // the executor). Null: a cancel waits for the step to end.
  StepInterrupt* interrupt = nullptr;
};

struct StepEvent {
  RequestId id = 0;
  std::vector<int32_t> tokens;         // new output tokens: one sampled, or more with jump-forward
  std::vector<float> logprobs;         // when the request asked for logprobs (0 for forced tokens)
  std::string text;                    // new decoded text (with a tokenizer): see TextStream
  std::vector<float> prompt_logprobs;  // once, on the first event after they are computed
  FinishReason finish = FinishReason::kNone;
  Status error;                     // with FinishReason::kError
  int32_t cached_tokens = 0;        // on the finishing event: prompt tokens served from the
                                    // cache at the first admission
  int32_t jump_forward_tokens = 0;  // on the finishing event: tokens that took no model step
};

class Scheduler {
 public:
  // `executor` must outlive the scheduler; its kv_shape() sizes the page pool.
  Scheduler(ModelExecutor& executor, SchedulerOptions options);
  ~Scheduler();

  // Queues a request. Refuses (naming why) an empty prompt, tokens outside the vocab, bad
  // sampling options, a duplicate id, or prompt + max_tokens larger than the whole KV pool.
  // A constraint's forced start (jump-forward) is appended here.
  Status add(RequestId id, std::vector<int32_t> prompt, SamplingOptions options);
  // The checks of add() except the id; reads only what never changes (safe from any thread).
  Status validate(std::span<const int32_t> prompt, const SamplingOptions& options) const;
  // Cancels a queued or running request at the next step (reported as a kCancelled event).
  // Returns false when the id is unknown (never added, or already finished).
  bool cancel(RequestId id);

  bool idle() const { return requests_.empty(); }
  // Runs one step and appends what happened to `events`. Errors of the model are reported as
  // kError events of the requests in the failed batch; the scheduler stays usable. A step the
  // interrupt abandoned (options().interrupt) changes no request: its tokens are computed
  // again by the next step (EngineStats::interrupted_steps counts these).
  void step(std::vector<StepEvent>& events);
  // Finishes the cancelled requests now (kCancelled events), without a model step: the Engine
  // reports cancels before it starts the next, possibly long, step.
  void finish_cancelled(std::vector<StepEvent>& events);

  EngineStats stats() const;
  const SchedulerOptions& options() const { return options_; }
  int32_t page_size() const { return page_size_; }

  // Drops every unlocked cached page (tests check that no page is leaked afterwards).
  void clear_cache();
  // Checks that every page's reference count equals its holders (requests + tree). For tests.
  Status check_invariants() const;

 private:
  // One step's batch: each request with the number of its tokens computed this step.
  using Plan = std::vector<std::pair<Request*, int32_t>>;

  // step(), in order: requests that end before any model step (cancelled, or finished by their
  // forced start); running requests get their next chunk (preempting when pages run out);
  // queued requests are admitted; the forward; each request's rows.
  void finish_early(std::vector<StepEvent>& events);
  void schedule_running(Plan& plan, int32_t& budget, std::vector<StepEvent>& events);
  void admit_queued(Plan& plan, int32_t& budget);
  // The one forward call of the step, with the KV segments the batch shares
  // (attn::group_shared_pages): fills logits_ (one row per request, or every row of a chunk
  // whose prompt logprobs are needed) and, when the backend picks argmax rows, argmax_ (one id
  // per request whose row is only its argmax: a plain greedy pick, or a prefill chunk before
  // the prompt's end). False when the model failed (those requests are finished with its
  // error).
  bool run_forward(const Plan& plan, std::vector<SequenceStep>& batch,
                   std::vector<StepEvent>& events);
  // After the forward: counts, prompt logprobs, and for a request whose last token is computed
  // the token pipeline. `rows`: its first logits row; `all_rows`: one per computed token;
  // `picked`: the backend's argmax for its last token instead of a row (or null).
  void advance(Request& r, int32_t n, bool all_rows, float* rows, const int32_t* picked,
               std::vector<StepEvent>& events);

  std::vector<Request*> admission_order();
  bool should_defer(const Request& r, int32_t cached) const;
  bool admit(Request& r, int32_t& budget, Plan& plan);
  // Makes r.pages cover num_computed + n positions (evicting from the tree if needed).
  bool ensure_pages(Request& r, int32_t n);
  bool allocate(int32_t count, std::vector<int32_t>& out);
  int32_t available_pages() const;
  void cache_computed_pages(Request& r);
  // At finish/preemption: the partly filled last page becomes a tail leaf of the tree.
  void cache_tail_page(Request& r);
  void release_kv(Request& r);
  void preempt(Request& r);
  void finish(Request& r, FinishReason reason, Status error, std::vector<StepEvent>& events);
  // An event with the request's tokens not yet sent (and their text).
  StepEvent make_event(Request& r);
  // Prompt logprobs: the next position whose logits row is still needed, or -1.
  int64_t next_prompt_row(const Request& r) const;
  // How many tokens of r may come from the cache (the last token and rows needed for prompt
  // logprobs are always computed).
  size_t cache_limit(const Request& r) const;
  // The chunk r computes this step given `n` tokens of room, and whether it needs every row.
  int32_t chunk_size(const Request& r, int32_t n) const;

  ModelExecutor& executor_;
  SchedulerOptions options_;
  int32_t page_size_;
  int64_t vocab_size_;
  kv::PagePool pool_;
  std::unique_ptr<kv::RadixTree> tree_;
  std::unordered_map<RequestId, std::unique_ptr<Request>> requests_;
  std::deque<Request*> queue_;     // by arrival (preempted ones go back to the front)
  std::vector<Request*> running_;  // by admission
  uint64_t next_arrival_ = 0;
  int64_t step_index_ = 0;
  EngineStats stats_;
  std::vector<float> logits_;
  std::vector<int32_t> argmax_;
  TokenPipeline pipeline_;
};

}  // namespace stemma::sched
