// What names a request and why it ended: the identifiers every layer above the engine (the SDK,
// the C ABI, the bindings) passes around.
#pragma once

#include <cstdint>

namespace stemma {

using RequestId = int64_t;

enum class FinishReason {
  kNone,        // still running
  kStopToken,   // generated one of the stop token ids (or the model's EOS), or the constraint
                // is finished
  kLength,      // reached max_tokens
  kStopString,  // a stop string appeared in the text
  kCancelled,   // cancel() was called
  kError,       // the request could not go on (the Status in the event / output says why)
};

// "none", "stop", "length", "stop_string", "cancelled", "error".
const char* finish_reason_name(FinishReason reason);

}  // namespace stemma
