// Token masks for grammar constraints, split the way XGrammar splits them. What a token does
// from a stack's top frame (rule, state) depends on the frames below only where the token
// would read past the end of the top rule. So per frame state, computed once by walking the
// vocabulary trie through the pushdown executor with nothing below the frame (kOpen):
//   accepted  tokens read wholly with the frame still on the stack: allowed whatever is below;
//   escapes   trie nodes after whose bytes the frame's rule may end: the tokens under such a
//             node are context-dependent, and are checked against the real stack below, by a
//             walk of that subtree only (dead prefixes skip their subtrees);
//   ends_at_start  the rule may end before reading a byte: the frame below decides too.
// A configuration's mask is the union over its stacks, EOS where the text may end.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/constrain/grammar.h"
#include "engine/constrain/pushdown.h"
#include "engine/constrain/token_mask.h"
#include "engine/constrain/vocabulary.h"

namespace stemma::constrain {

struct FrameTokens {
  struct Escape {
    int32_t node;   // TokenIndex node; the tokens strictly below it continue in the caller
    int32_t depth;  // bytes read when the rule ends (the node's depth)
  };
  TokenMask accepted;
  std::vector<Escape> escapes;
  bool ends_at_start = false;
  int32_t dependent = 0;  // tokens under escape nodes (context-dependent), for statistics
};

FrameTokens classify_frame_tokens(const Grammar& grammar, const TokenIndex& index, int32_t rule,
                                  int32_t state);

struct GrammarMaskStats {
  int64_t frames = 0;        // frames whose cached classes were used
  int64_t escape_walks = 0;  // context-dependent subtrees walked against the real stack
  int64_t walked_nodes = 0;  // trie nodes stepped in those walks
};

using FrameTokensFn = std::function<const FrameTokens&(int32_t rule, int32_t state)>;

// The tokens allowed after `config` (the top frames of its stacks, in `exec`'s arena), EOS
// ids when `can_end`. Leaves the arena as it found it.
void grammar_mask(PushdownExec& exec, std::span<const int32_t> config, bool can_end,
                  const TokenIndex& index, const FrameTokensFn& frame_tokens, TokenMask* out,
                  GrammarMaskStats* stats = nullptr);

}  // namespace stemma::constrain
