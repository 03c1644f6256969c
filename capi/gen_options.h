// stemma_gen_options -> the engine's SamplingOptions (constraints compiled on the engine), and
// the pieces every generating entry point shares: the stream callback bridge, finish reasons,
// and errors reported by a finished request.
#pragma once

#include <mutex>
#include <string>

#include "capi/engine_core.h"
#include "capi/stemma.h"
#include "engine/api/engine.h"
#include "sdk/program/gen_options.h"

namespace stemma::capi {

stemma_gen_options default_gen_options();

// Validates `options` (NULL: defaults) and builds the sampling options, compiling a regex or
// JSON Schema constraint against `core`'s vocabulary. Errors name `function` and the field.
Result<SamplingOptions> to_sampling_options(const char* function, EngineCore& core,
                                            const stemma_gen_options* options);

// The same checks, giving the SDK's options (programs, chats, RAG answers); the SDK compiles the
// constraint itself.
Result<program::GenOptions> to_program_options(const char* function,
                                               const stemma_gen_options* options);

stemma_finish_reason to_c_finish(FinishReason reason);

// The Status a request that finished with FinishReason::kError stands for: the engine writes
// "CODE_NAME: message"; the code is recovered from it (INTERNAL when it names none).
Status request_error(const char* function, const std::string& error);

// Text crossing as a C string must not contain NUL (a byte token can decode to one): NULs
// become U+FFFD, in streamed pieces and returned text alike.
std::string c_safe_text(std::string_view text);

// Hands text pieces to a caller's stemma_stream_fn and remembers whether it asked to cancel.
// Once it has, no further piece is delivered. Thread-safe (engine thread vs. caller thread).
class StreamBridge {
 public:
  StreamBridge(stemma_stream_fn fn, void* user_data) : fn_(fn), user_data_(user_data) {}
  // Returns false when the callback asked to stop (now or earlier).
  bool deliver(std::string_view piece);
  bool cancelled() const;

 private:
  stemma_stream_fn fn_;
  void* user_data_;
  mutable std::mutex mu_;
  bool cancelled_ = false;
};

// A TextCallback for the SDK that feeds `bridge` (NULL fn: no callback). The bridge must outlive
// every generation the callback is given to.
program::TextCallback text_callback(std::shared_ptr<StreamBridge> bridge);

}  // namespace stemma::capi
