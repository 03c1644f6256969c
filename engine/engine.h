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

#include "engine/backend/cuda_backend.h"
#include "engine/backend/model_executor.h"
#include "engine/common/status.h"
#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/json_schema.h"
#include "engine/model/model_loader.h"
#include "engine/sample/sampling_options.h"
#include "engine/sched/request.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma {

struct EngineOptions {
  // The model: the first of these that is set is used.
  std::shared_ptr<ModelExecutor> executor;   // a ready executor (its kv_shape sizes the cache)
  std::shared_ptr<const LoadedModel> model;  // loaded or generated weights (CPU backend)
  std::string model_path;                    // a .gguf file or an HF folder

  // Where a model (or model_path) runs: kAuto picks the GPU when this build has the CUDA backend
  // and a GPU answers, else the CPU; kCuda without one is an error naming why.
  Backend backend = Backend::kAuto;
  int32_t device = 0;                   // GPU index (cuda)
  int64_t gpu_kv_memory_bytes = 0;      // cuda: KV pool cap when num_pages is 0; 0: 90% of the
                                        // memory left after the weights
  bool shared_prefix_attention = true;  // cuda: read a shared cached prefix once per batch

  int32_t threads = 0;     // CPU backend threads; 0: one per hardware thread
  int32_t page_size = 16;  // KV positions per page (cuda: a multiple of 16)
  int32_t num_pages = 0;   // KV pages; 0: as many as kv_memory_bytes (cpu) holds
  int64_t kv_memory_bytes = int64_t{512} << 20;  // cpu KV pool when num_pages is 0
  int32_t max_batch_tokens = 2048;               // tokens per step (prefill chunks + decode tokens)
  int32_t prefill_chunk = 512;    // prompt tokens one request computes per step at most
  int32_t max_running = 256;      // requests in flight at once (others queue)
  bool radix_cache = true;        // prefix sharing on/off (off: the baseline)
  bool cache_aware_order = true;  // longest cached prefix first (false: first come first served)
  int64_t max_wait_steps = 64;    // bound on how long cache-aware order may pass a request over
  // Text out, stop strings, constraints and jump-forward use the model's tokenizer (from its
  // GGUF / tokenizer.json); this one, when set, is used instead (e.g. with a bare executor).
  std::shared_ptr<const Tokenizer> tokenizer;
};

// What the stream callback receives: new tokens of one request and, on its last event, why it
// finished.
struct StreamEvent {
  RequestId id = 0;
  // Usually one token; several when jump-forward appended forced ones; none on a finish-only
  // event.
  std::span<const int32_t> tokens;
  std::span<const float> logprobs;  // parallel to tokens when SamplingOptions::logprobs (forced
                                    // tokens: 0, probability one under the constraint)
  // The new decoded text (when the engine has a tokenizer): valid UTF-8, never half a
  // character; text that might start a stop string is held back until it is known not to be
  // one; a stop string itself is never streamed. May be empty while tokens are not.
  std::string_view text;
  std::span<const float> prompt_logprobs;     // once, when SamplingOptions::prompt_logprobs_from
  FinishReason finish = FinishReason::kNone;  // kNone while the request runs
  std::string_view error;                     // with FinishReason::kError
};

// Runs on the engine's worker thread between steps. It must return quickly and must not block
// (every request waits for it). It may call submit() and cancel(); wait() (and generate()) on a
// request that has not finished is FailedPrecondition there, and that request is cancelled
// without further events (waiting would deadlock the worker); wait_idle() returns at once.
using StreamCallback = std::function<void(const StreamEvent&)>;

struct RequestOutput {
  RequestId id = 0;
  std::vector<int32_t> tokens;  // generated tokens (the prompt excluded; forced ones included)
  std::vector<float> logprobs;  // when SamplingOptions::logprobs
  // Decoded generated text when the engine has a tokenizer: control tokens (EOS, ...) not
  // rendered, cut before a stop string.
  std::string text;
  // log p(prompt[i] | prompt[0..i)) for i in [SamplingOptions::prompt_logprobs_from, prompt
  // length), when asked for.
  std::vector<float> prompt_logprobs;
  int32_t cached_tokens = 0;        // prompt tokens served from the prefix cache (first admission)
  int32_t jump_forward_tokens = 0;  // output tokens appended without a model step
  FinishReason finish = FinishReason::kNone;
  std::string error;
};

struct EngineStats {
  int64_t cached_tokens = 0;        // prompt tokens served from the prefix cache
  int64_t prefill_tokens = 0;       // prompt tokens computed
  int64_t computed_tokens = 0;      // all tokens run through the model
  int64_t generated_tokens = 0;     // tokens sampled
  int64_t jump_forward_tokens = 0;  // tokens appended without a model step (jump-forward)
  int64_t evicted_pages = 0;        // pages dropped from the prefix cache to make room
  int64_t preemptions = 0;          // running requests paused for lack of pages
  int64_t steps = 0;                // model forwards
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
  // The tokenizer text goes through; nullptr when the model carries none (and none was given).
  const Tokenizer* tokenizer() const;

  // Constraints for SamplingOptions::constraint, compiled against this engine's vocabulary
  // (its token index is built once, on first use). Cached by source text, so compiling the
  // same schema again is a lookup. Thread-safe. FailedPrecondition without a tokenizer;
  // InvalidArgument / Unsupported name what is wrong with the pattern or schema. Compiling a
  // large schema can take from milliseconds to seconds: avoid it inside a stream callback (it
  // would hold up every request).
  Result<std::shared_ptr<const constrain::CompiledConstraint>> compile_regex(
      std::string_view regex);
  Result<std::shared_ptr<const constrain::CompiledConstraint>> compile_json_schema(
      std::string_view schema_json, const constrain::JsonSchemaOptions& options = {});
  // Exactly one of the strings (select); non-empty, duplicates allowed.
  Result<std::shared_ptr<const constrain::CompiledConstraint>> compile_choices(
      const std::vector<std::string>& choices);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stemma
