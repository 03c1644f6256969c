// Stemma's engine: open a model, submit requests, stream tokens and text, cancel, read
// statistics. engine/api/ holds the engine's only public headers; nothing here includes
// anything else of engine/.
//
//   auto engine = stemma::Engine::open({.model_path = "model.gguf"});
//   auto text = (*engine)->text();   // the model's tokenizer and chat template
//   auto id = (*engine)->submit(text->encode("Hello", true), {.max_tokens = 32});
//   auto out = (*engine)->wait(*id);   // out->tokens, out->text, out->finish
//
// The engine owns one worker thread that runs steps of continuous batching: each step mixes
// prefill chunks of new requests with one decode token of each running request, reusing the KV
// of any earlier prompt with the same beginning (radix prefix cache). submit/cancel/wait/stats
// may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/api/engine_options.h"
#include "engine/api/engine_stats.h"
#include "engine/api/events.h"
#include "engine/api/generation_options.h"
#include "engine/api/model_info.h"
#include "engine/api/request.h"
#include "engine/api/status.h"
#include "engine/api/text_layer.h"

namespace stemma {

namespace internal {
struct EngineAccess;
}

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(EngineOptions options);
  // Cancels whatever is still running and stops the worker. Threads blocked in wait() get a
  // kCancelled output.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request for the token ids `prompt`. Everything wrong with the prompt or the
  // options is refused here, with a Status naming it: check(options), an empty prompt, ids
  // outside the vocabulary, a prompt that fills the context (OutOfRange) or the whole KV pool
  // (ResourceExhausted). max_tokens is capped so that prompt + output fit context_length(); the
  // constraint is compiled here (cached by its text: compiling a large JSON Schema the first
  // time can take from milliseconds to seconds, so avoid a new one inside a stream callback).
  // `on_event` (optional) streams the request's tokens and text. Unless `keep_output` is false,
  // the output is kept until wait() collects it.
  Result<RequestId> submit(std::vector<int32_t> prompt, GenerationOptions options,
                           StreamCallback on_event = {}, bool keep_output = true);
  // The checks submit makes before it queues, without the prompt's ids: the options
  // (GenerationOptions::validate, token ids against the vocabulary, stop strings and
  // constraints need a tokenizer, the constraint compiles, then it is cached for submit;
  // messages name the field as GenerationOptions spells it) and, when `prompt_tokens` > 0,
  // that a prompt of that many tokens leaves room in the context.
  Status check(const GenerationOptions& options, size_t prompt_tokens = 0);
  // Stops a request; its output so far is kept with FinishReason::kCancelled. NotFound for an
  // unknown or already collected id.
  Status cancel(RequestId id);
  // Blocks until the request finishes and hands over its output (once).
  Result<RequestOutput> wait(RequestId id);
  // submit + wait.
  Result<RequestOutput> generate(std::vector<int32_t> prompt, GenerationOptions options);
  // Blocks until no request is queued or running.
  void wait_idle();

  EngineStats stats() const;
  const ModelInfo& model_info() const;
  // Positions one request may take, prompt and output together (model_info().context_length).
  int64_t context_length() const;
  // The model's text layer (tokenizer, chat template); nullptr when the model carries no
  // tokenizer. It stays valid while a caller holds it, also after the engine is gone.
  std::shared_ptr<const TextLayer> text() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  friend struct internal::EngineAccess;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stemma
