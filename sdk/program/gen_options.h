// The streaming callback every generating call of the SDK takes (programs, chat sessions, RAG
// answers, agents). The options of a generation are the engine's GenerationOptions
// (engine/api/generation_options.h), passed through as they are.
#pragma once

#include <functional>
#include <string_view>

#include "engine/api/generation_options.h"

namespace stemma::program {

// Receives generated text as it is produced: valid UTF-8 pieces, never half a character, never
// part of a stop string. Runs on the engine's thread: must not block and must not wait on the
// state it streams for. Return false to cancel the generation (it then finishes as cancelled
// with the text so far).
using TextCallback = std::function<bool(std::string_view piece)>;

}  // namespace stemma::program
