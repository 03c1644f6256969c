// stemma_gen_options -> the engine's GenerationOptions (a copy: the engine validates, caps and
// compiles them), and the pieces every generating entry point shares: the stream callback
// bridge and finish reasons.
#pragma once

#include <mutex>
#include <string>

#include "capi/engine_core.h"
#include "capi/stemma.h"
#include "engine/api/engine.h"
#include "engine/api/generation_options.h"
#include "sdk/program/gen_options.h"

namespace stemma::capi {

stemma_gen_options default_gen_options();

// `options` (NULL: the defaults) copied into GenerationOptions, after the checks only the C
// struct needs (struct_size, NULL and UTF-8 text, 0/1 flags) and GenerationOptions::validate.
// Errors name `function` and the field as the C struct spells it ("options->top_p ...").
Result<GenerationOptions> to_generation_options(const char* function,
                                                const stemma_gen_options* options);

// An error of the engine about GenerationOptions, named as the C struct's field
// ("stemma_generate: options->regex: ...").
Status options_error(const char* function, const Status& status);

stemma_finish_reason to_c_finish(FinishReason reason);

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
