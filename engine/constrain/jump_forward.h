// Jump-forward: when the automaton forces a run of bytes, append it without model steps,
// tokenized the way the model's tokenizer would tokenize it. The forced text is re-tokenized
// together with the last token(s) already emitted, because the boundary may merge (`"` then
// forced `name"` is better tokenized as `"name` + `"`); tokens that differ are rolled back.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/constraint_state.h"

namespace stemma::constrain {

// The tokenizer, abstractly: text -> ids (no BOS/EOS), and each id's bytes.
struct TokenizerView {
  std::function<std::vector<int32_t>(std::string_view)> encode;
  const std::vector<std::string>* token_bytes = nullptr;
};

struct JumpForwardPlan {
  std::string forced;           // the forced bytes
  size_t rollback = 0;          // tokens to drop from the end of the output
  std::vector<int32_t> append;  // tokens to append after the rollback
};

struct JumpForwardStats {
  int64_t jumps = 0;  // jump-forwards applied
  int64_t forced_bytes = 0;
  int64_t tokens_appended = 0;  // tokens added without a decode step
  int64_t tokens_rolled_back = 0;
};

// Plans the re-tokenization of `forced` after `output` (the constrained output so far),
// looking back at most `lookback` tokens. Pure: changes nothing.
Result<JumpForwardPlan> plan_jump_forward(std::span<const int32_t> output, std::string_view forced,
                                          const TokenizerView& tokenizer, size_t lookback = 2);

// Runs one jump-forward on `state` and `output` (kept in step with each other): plans it from
// state.jump_forward_bytes(), rolls back and appends. Returns the plan (empty forced when there
// was nothing to jump). `output` must hold the tokens `state` accepted, last ones at its end.
Result<JumpForwardPlan> jump_forward(ConstraintState* state, std::vector<int32_t>* output,
                                     const TokenizerView& tokenizer, JumpForwardStats* stats,
                                     size_t lookback = 2);

}  // namespace stemma::constrain
