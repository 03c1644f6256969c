// What a stemma_engine handle holds: the engine (its text layer gives the tokenizer and chat
// template), the requests stemma_generate has in flight, and the SDK's runtime. Handles that
// use the engine (programs, chats, agents) keep a shared_ptr to the core, so the engine
// outlives every one of them even when a caller frees the engine handle first.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "engine/api/engine.h"
#include "sdk/program/runtime.h"

namespace stemma::capi {

struct EngineCore {
  std::unique_ptr<Engine> engine;
  std::string model_info_json;  // stemma_engine_model_info's answer, made once

  ~EngineCore();

  // Requests submitted through stemma_generate, so stemma_engine_free can cancel them while
  // other handles (programs, chats) still keep the engine itself alive. track() returns false
  // once cancel_tracked() ran: a request submitted just before the handle was freed, whose id
  // was not tracked yet, is then cancelled by its own caller instead of running to its end.
  [[nodiscard]] bool track(RequestId id);
  void untrack(RequestId id);
  void cancel_tracked();
  // True once cancel_tracked() ran; a stream callback checks it to cancel its own request.
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // The SDK's view of the engine (tokenizer, chat template, role blocks), made on first use and
  // shared by every program, chat, RAG answer and agent on this engine. Errors name `function`.
  Result<std::shared_ptr<program::Runtime>> runtime(const char* function);

 private:
  std::mutex runtime_mu_;
  std::shared_ptr<program::Runtime> runtime_;  // declared after `engine`: destroyed before it
  std::mutex active_mu_;
  std::set<RequestId> active_;
  std::atomic<bool> closed_{false};  // the engine handle was freed (set under active_mu_)
};

// The engine's text layer, or a FailedPrecondition naming `function` when the model carries no
// tokenizer.
Result<std::shared_ptr<const TextLayer>> require_text(const EngineCore& core, const char* function);

}  // namespace stemma::capi

struct stemma_engine {
  std::shared_ptr<stemma::capi::EngineCore> core;
};
