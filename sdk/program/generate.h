// One generation on the engine, at the text level: the engine checks the GenerationOptions
// (constraint compiled, max_tokens capped to the context); this streams the text to a callback
// that may cancel, and gives the result as the tokens a caller appends to its sequence to
// continue it.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/api/status.h"
#include "sdk/program/gen_options.h"
#include "sdk/program/runtime.h"

namespace stemma::program {

struct Generated {
  std::string text;  // control tokens (EOS) not rendered, cut before a stop string
  // The tokens to append to the prompt to continue after `text`: the generated ones as they were
  // generated, without a final control token (EOS, end of turn), and, when a stop string cut
  // the text, without the tokens past the cut (a token the cut splits is re-encoded).
  std::vector<int32_t> tokens;
  FinishReason finish = FinishReason::kNone;  // kCancelled when the callback cancelled
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;     // prompt tokens the radix cache served
  int64_t generated_tokens = 0;  // tokens the engine produced (jump-forward ones included)
  int64_t jump_forward_tokens = 0;
};

// Runs `prompt` to the end. Errors: bad options, the engine refusing the request, a failed
// generation (its Status, with the code the engine gave). A cancellation by `stream` is not an
// error: finish == kCancelled.
Result<Generated> generate(const Runtime& runtime, std::vector<int32_t> prompt,
                           const GenerationOptions& options, const TextCallback& stream = {});

// The tokens that continue a sequence after `text`, given the generated `tokens` whose decoded
// text starts with `text` (see Generated::tokens).
std::vector<int32_t> continuation_tokens(const Runtime& runtime, std::vector<int32_t> tokens,
                                         const std::string& text, FinishReason finish);

}  // namespace stemma::program
