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

#include "engine/api/engine_options.h"
#include "engine/api/engine_stats.h"
#include "engine/api/events.h"
#include "engine/api/request.h"
#include "engine/api/status.h"
#include "engine/backend/model_executor.h"
#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/json_schema.h"
#include "engine/model/model_loader.h"
#include "engine/sample/sampling_options.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma {

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
