// GenerationOptions: one request as a caller asks for it, at the level of text: how many
// tokens, how to sample them, when to stop, and what the output must look like (a regex, a JSON
// Schema or a list of choices, given as text). The engine validates it, caps max_tokens to the
// context and compiles (and caches) the constraint inside Engine::submit, so every layer above
// (the SDK, the C ABI, the CLI) only copies its own options into this struct.
//
// The defaults below are the only defaults of a generation in Stemma: stemma_gen_options_init
// (the C ABI), the bindings and the SDK take them from here (docs/engine.md, "Generation
// options"). Whoever needs another default sets the field (the agent turns jump-forward off
// and allows 256 tokens per turn, sdk/agent/agent.h says why).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/status.h"

namespace stemma {

struct GenerationOptions {
  // ---- length ----
  // Generated tokens at most (>= 1). Capped so that prompt + output fit the context
  // (Engine::context_length); a prompt that fills the context alone is refused.
  int32_t max_tokens = 128;

  // ---- sampling ----
  float temperature = 0.0f;  // <= 0: greedy (argmax, ties to the lowest id)
  int32_t top_k = 0;         // keep the k most likely tokens; 0: off
  float top_p = 1.0f;        // keep the smallest set whose probability reaches top_p; 1: off
  float min_p = 0.0f;        // drop tokens below min_p * (probability of the likeliest); 0: off
  uint64_t seed = 0;         // per-request RNG seed: same seed + same logits = same tokens
  // Penalties. repetition: CTRL/HF style (divide positive logits, multiply negative ones) over
  // prompt and generated tokens; frequency/presence: OpenAI style over generated tokens.
  float repetition_penalty = 1.0f;  // 1: off
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token, added to its logit)

  // ---- stop ----
  // The output ends before the first of these strings (which is never part of the text; the
  // tokens that spelled it are kept). Needs the model's tokenizer.
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_token_ids;  // finish when one is generated (it is kept)
  bool ignore_eos = false;              // false: the model's EOS ids also stop

  // ---- constraint (at most one of regex, json_schema, choices) ----
  // Only tokens that keep the output on a path the constraint can finish are sampled; EOS only
  // where the output is complete. The request finishes (kStopToken) when the output is
  // complete and nothing can extend it.
  std::string regex;                 // "" or: the whole output matches this regex
  std::string json_schema;           // "" or: the output is JSON valid under this schema
  int32_t json_whitespace = 0;       // with json_schema: spaces/newlines allowed around , : { } [ ]
  std::vector<std::string> choices;  // empty or: the output is exactly one of these strings
  // With a constraint: where it allows exactly one continuation, append it without model
  // steps, tokenized as the model's tokenizer would.
  bool jump_forward = true;

  // ---- what comes back besides the tokens and text ----
  bool logprobs = false;  // log-softmax of the raw logits at each chosen token
  // >= 1: report log p(token_i | tokens before i) for prompt positions i in
  // [prompt_logprobs_from, prompt length) (RequestOutput::prompt_logprobs). Those positions are
  // computed, not served from the prefix cache. -1: off.
  int32_t prompt_logprobs_from = -1;

  // The checks that need no model: ranges, NaN, at most one constraint, no empty stop string.
  // The message names the first bad field as it is spelled here ("top_p must be ..."). The
  // engine checks the rest (token ids against its vocabulary, the constraint's text) in
  // Engine::check and Engine::submit.
  Status validate() const;
};

}  // namespace stemma
