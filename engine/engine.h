// Stemma's engine: the one public header of engine/.
//
//   auto engine = stemma::Engine::open({.model_path = "model.gguf"});
//   auto id = (*engine)->submit({1, 15043, 29892}, {.max_tokens = 32, .temperature = 0});
//   auto out = (*engine)->wait(*id);   // out->tokens, out->finish
//
// The engine owns one worker thread that runs steps of continuous batching: each step mixes
// prefill chunks of new requests with one decode token of each running request, reusing the KV
// of any earlier prompt with the same beginning (radix prefix cache). submit/cancel/wait/stats
// may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/backend/model_executor.h"
#include "engine/common/status.h"
#include "engine/model/model_loader.h"
#include "engine/sample/sampling_options.h"
#include "engine/sample/token_mask.h"
#include "engine/sched/request.h"

namespace stemma {

struct EngineOptions {
  // The model: the first of these that is set is used.
  std::shared_ptr<ModelExecutor> executor;   // a ready executor (its kv_shape sizes the cache)
  std::shared_ptr<const LoadedModel> model;  // loaded or generated weights (CPU backend)
  std::string model_path;                    // a .gguf file or an HF folder (CPU backend)

  int32_t threads = 0;     // backend threads; 0: one per hardware thread
  int32_t page_size = 16;  // KV positions per page
  int32_t num_pages = 0;   // KV pages; 0: as many as kv_memory_bytes holds
  int64_t kv_memory_bytes = int64_t{512} << 20;
  int32_t max_batch_tokens = 2048;  // tokens per step (prefill chunks + decode tokens)
  int32_t prefill_chunk = 512;      // prompt tokens one request computes per step at most
  int32_t max_running = 256;        // requests in flight at once (others queue)
  bool radix_cache = true;          // prefix sharing on/off (off: the baseline)
  bool cache_aware_order = true;    // longest cached prefix first (false: first come first served)
  int64_t max_wait_steps = 64;      // bound on how long cache-aware order may pass a request over
};

// What the stream callback receives: new tokens of one request and, on its last event, why it
// finished.
struct StreamEvent {
  RequestId id = 0;
  std::span<const int32_t> tokens;            // usually one token; none on a finish-only event
  std::span<const float> logprobs;            // parallel to tokens when SamplingOptions::logprobs
  FinishReason finish = FinishReason::kNone;  // kNone while the request runs
  std::string_view error;                     // with FinishReason::kError
};

// Runs on the engine's worker thread between steps. It must return quickly and must not block
// (every request waits for it). It may call submit() and cancel(), but not wait().
using StreamCallback = std::function<void(const StreamEvent&)>;

struct RequestOutput {
  RequestId id = 0;
  std::vector<int32_t> tokens;  // generated tokens (the prompt excluded)
  std::vector<float> logprobs;  // when SamplingOptions::logprobs
  FinishReason finish = FinishReason::kNone;
  std::string error;
};

struct EngineStats {
  int64_t cached_tokens = 0;     // prompt tokens served from the prefix cache
  int64_t prefill_tokens = 0;    // prompt tokens computed
  int64_t computed_tokens = 0;   // all tokens run through the model
  int64_t generated_tokens = 0;  // tokens sampled
  int64_t evicted_pages = 0;     // pages dropped from the prefix cache to make room
  int64_t preemptions = 0;       // running requests paused for lack of pages
  int64_t steps = 0;             // model forwards
  int32_t pages_in_use = 0;
  int32_t pages_total = 0;
  int32_t cached_pages = 0;  // pages held by the prefix cache
  int32_t running = 0;
  int32_t queued = 0;
  // cached / (cached + prefilled) prompt tokens.
  double cache_hit_rate() const {
    const int64_t all = cached_tokens + prefill_tokens;
    return all == 0 ? 0.0 : static_cast<double>(cached_tokens) / static_cast<double>(all);
  }
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(EngineOptions options);
  // Cancels whatever is still running and stops the worker. Threads blocked in wait() get a
  // kCancelled output.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Bad prompts or options are refused here, with the reason. `on_event`
  // (optional) streams its tokens. Unless `keep_output` is false, the output is kept until
  // wait() collects it.
  Result<RequestId> submit(std::vector<int32_t> prompt, SamplingOptions options,
                           StreamCallback on_event = {}, bool keep_output = true);
  // Stops a request; its output so far is kept with FinishReason::kCancelled. NotFound for an
  // unknown or already collected id.
  Status cancel(RequestId id);
  // Blocks until the request finishes and hands over its output (once).
  Result<RequestOutput> wait(RequestId id);
  // submit + wait.
  Result<RequestOutput> generate(std::vector<int32_t> prompt, SamplingOptions options);
  // Blocks until no request is queued or running.
  void wait_idle();

  EngineStats stats() const;
  const ModelConfig& config() const;
  const KvCacheShape& kv_shape() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stemma
