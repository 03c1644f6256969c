// What a request gives back: StreamEvent (pushed to a callback as tokens are made) and
// RequestOutput (collected once by Engine::wait).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/request.h"
#include "engine/api/status.h"

namespace stemma {

// What the stream callback receives: new tokens of one request and, on its last event, why it
// finished.
struct StreamEvent {
  RequestId id = 0;
  // Usually one token; several when jump-forward appended forced ones; none on a finish-only
  // event.
  std::span<const int32_t> tokens;
  std::span<const float> logprobs;  // parallel to tokens when GenerationOptions::logprobs
                                    // (forced tokens: 0, probability one under the constraint)
  // The new decoded text (when the engine has a tokenizer): valid UTF-8, never half a
  // character; text that might start a stop string is held back until it is known not to be
  // one; a stop string itself is never streamed. May be empty while tokens are not.
  std::string_view text;
  std::span<const float> prompt_logprobs;     // once, when GenerationOptions::prompt_logprobs_from
  FinishReason finish = FinishReason::kNone;  // kNone while the request runs
  Status error;                               // with FinishReason::kError: why (a code)
};

// Runs on the engine's worker thread between steps. It must return quickly and must not block
// (every request waits for it). It may call Engine::submit and Engine::cancel; Engine::wait (and
// Engine::generate) on a request that has not finished is FailedPrecondition there, and that
// request is cancelled without further events (waiting would deadlock the worker);
// Engine::wait_idle returns at once.
using StreamCallback = std::function<void(const StreamEvent&)>;

struct RequestOutput {
  RequestId id = 0;
  std::vector<int32_t> tokens;  // generated tokens (the prompt excluded; forced ones included)
  std::vector<float> logprobs;  // when GenerationOptions::logprobs
  // Decoded generated text when the engine has a tokenizer: control tokens (EOS, ...) not
  // rendered, cut before a stop string.
  std::string text;
  // log p(prompt[i] | prompt[0..i)) for i in [GenerationOptions::prompt_logprobs_from, prompt
  // length), when asked for.
  std::vector<float> prompt_logprobs;
  int32_t cached_tokens = 0;        // prompt tokens served from the prefix cache (first admission)
  int32_t jump_forward_tokens = 0;  // output tokens appended without a model step
  FinishReason finish = FinishReason::kNone;
  Status error;  // with FinishReason::kError: why, as a code and a message
};

}  // namespace stemma
