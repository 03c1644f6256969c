// Options of one generation (SGLang's gen arguments) and the streaming callback, shared by
// programs, chat sessions, RAG answers and agents.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace stemma::program {

struct GenOptions {
  int32_t max_tokens = 128;  // generated tokens at most (capped by the context length)
  float temperature = 0.0f;  // <= 0: greedy
  int32_t top_k = 0;         // 0: off
  float top_p = 1.0f;        // 1: off
  float min_p = 0.0f;        // 0: off
  uint64_t seed = 0;
  float repetition_penalty = 1.0f;  // 1: off
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::string> stop;  // stop strings: the output ends before the first one
  std::string regex;              // "" or: the output must match this regex (whole output)
  std::string json_schema;        // "" or: the output must be JSON valid under this schema
  int json_whitespace = 0;        // with json_schema: spaces/newlines allowed around , : { } [ ]
  bool jump_forward = true;       // with regex/json_schema: append forced text without a step
  bool ignore_eos = false;
};

// Receives generated text as it is produced: valid UTF-8 pieces, never half a character, never
// part of a stop string. Runs on the engine's thread: must not block and must not wait on the
// state it streams for. Return false to cancel the generation (it then finishes as cancelled
// with the text so far).
using TextCallback = std::function<bool(std::string_view piece)>;

}  // namespace stemma::program
