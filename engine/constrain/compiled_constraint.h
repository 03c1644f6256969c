// A constraint compiled for one vocabulary: the byte DFA plus a per-state cache of token masks.
// Immutable after construction except for the cache, which is filled lazily under a lock, so
// one compiled constraint can serve many requests (and threads) at once.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/status.h"
#include "engine/constrain/dfa.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/token_mask.h"
#include "engine/constrain/vocabulary.h"

namespace stemma::constrain {

class CompiledConstraint {
 public:
  CompiledConstraint(Dfa dfa, std::shared_ptr<const TokenIndex> index);

  static Result<std::shared_ptr<const CompiledConstraint>> from_regex(
      std::string_view regex, std::shared_ptr<const TokenIndex> index);
  // Fails with Unsupported naming every keyword it cannot enforce.
  static Result<std::shared_ptr<const CompiledConstraint>> from_json_schema(
      std::string_view schema_json, std::shared_ptr<const TokenIndex> index,
      const JsonSchemaOptions& options = {});
  // One of the literal strings (select).
  static Result<std::shared_ptr<const CompiledConstraint>> from_choices(
      const std::vector<std::string>& choices, std::shared_ptr<const TokenIndex> index);

  const Dfa& dfa() const { return dfa_; }
  const TokenIndex& index() const { return *index_; }
  int32_t vocab_size() const { return index_->size(); }

  // Tokens allowed in DFA `state` (EOS ids included iff the state accepts). Computed on first
  // use by walking the vocabulary trie through the DFA, then cached. The reference stays valid
  // for the lifetime of this object.
  const TokenMask& mask(int32_t state) const;
  // Whether `token` can follow in `state`, without building the mask.
  bool token_allowed(int32_t state, int32_t token) const;
  // DFA state after `token`'s bytes, or Dfa::kDead.
  int32_t next_state(int32_t state, int32_t token) const;

  size_t cached_masks() const;
  void precompute_all_masks() const;

 private:
  void compute_mask(int32_t state, TokenMask* out) const;

  Dfa dfa_;
  std::shared_ptr<const TokenIndex> index_;
  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<TokenMask>> masks_;
  mutable size_t cached_ = 0;
};

}  // namespace stemma::constrain
