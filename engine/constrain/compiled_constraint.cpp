#include "engine/constrain/compiled_constraint.h"

namespace stemma::constrain {

CompiledConstraint::CompiledConstraint(Dfa dfa, std::shared_ptr<const TokenIndex> index)
    : dfa_(std::move(dfa)), index_(std::move(index)) {
  masks_.resize(dfa_.num_states());
}

CompiledConstraint::CompiledConstraint(Grammar grammar, std::shared_ptr<const TokenIndex> index)
    : grammar_(std::move(grammar)), index_(std::move(index)) {
  frames_.resize(static_cast<size_t>(grammar_->total_states()));
}

Result<std::shared_ptr<const CompiledConstraint>> CompiledConstraint::from_grammar(
    const GrammarSource& source, std::shared_ptr<const TokenIndex> index,
    const GrammarOptions& options) {
  if (!index) return InvalidArgument("constraint: no vocabulary index");
  auto grammar = compile_grammar(source, options);
  if (!grammar.ok()) return grammar.status();
  return std::make_shared<const CompiledConstraint>(std::move(*grammar), std::move(index));
}

Result<std::shared_ptr<const CompiledConstraint>> CompiledConstraint::from_regex(
    std::string_view regex, std::shared_ptr<const TokenIndex> index) {
  if (!index) return InvalidArgument("constraint: no vocabulary index");
  auto dfa = compile_regex(regex);
  if (!dfa.ok()) return dfa.status();
  if (dfa->empty_language()) return InvalidArgument("constraint: the pattern matches nothing");
  return std::make_shared<const CompiledConstraint>(std::move(*dfa), std::move(index));
}

Result<std::shared_ptr<const CompiledConstraint>> CompiledConstraint::from_json_schema(
    std::string_view schema_json, std::shared_ptr<const TokenIndex> index,
    const JsonSchemaOptions& options) {
  auto regex = json_schema_to_regex(schema_json, options);
  if (!regex.ok()) return regex.status();
  STEMMA_RETURN_IF_ERROR(regex->status());
  if (regex->is_grammar()) {
    GrammarSource source;
    source.root = regex->regex;
    for (const SchemaRule& r : regex->rules) {
      source.rules.push_back(r.regex);
      source.names.push_back(r.name);
    }
    GrammarOptions go;
    go.max_stack_depth = options.max_stack_depth;
    auto c = from_grammar(source, std::move(index), go);
    if (!c.ok()) return c.status().with_context("JSON Schema");
    return c;
  }
  auto c = from_regex(regex->regex, std::move(index));
  if (!c.ok()) return c.status().with_context("JSON Schema");
  return c;
}

Result<std::shared_ptr<const CompiledConstraint>> CompiledConstraint::from_choices(
    const std::vector<std::string>& choices, std::shared_ptr<const TokenIndex> index) {
  if (choices.empty()) return InvalidArgument("select: no choices");
  return from_regex(choices_regex(choices), std::move(index));
}

void CompiledConstraint::compute_mask(int32_t state, TokenMask* out) const {
  out->resize(index_->size());
  const auto& nodes = index_->nodes();
  std::vector<int32_t> at(static_cast<size_t>(index_->max_token_bytes()) + 1);
  at[0] = state;
  const int32_t n = static_cast<int32_t>(nodes.size());
  const int32_t k = dfa_.num_classes;
  const int32_t* next = dfa_.next.data();
  const uint8_t* cls = dfa_.byte_class.data();
  uint64_t* words = out->words();
  int32_t i = 0;
  while (i < n) {
    const TokenIndex::Node& node = nodes[i];
    int32_t t = next[static_cast<size_t>(at[node.depth - 1]) * k + cls[node.byte]];
    if (t < 0) {
      i = node.subtree_end;
      continue;
    }
    at[node.depth] = t;
    if (node.token >= 0) words[node.token >> 6] |= uint64_t{1} << (node.token & 63);
    ++i;
  }
  for (const auto& [node, token] : index_->extra_tokens()) {
    if (out->test(nodes[node].token)) out->set(token);
  }
  if (dfa_.is_accepting(state)) {
    for (int32_t id : index_->vocab().eos_ids) out->set(id);
  }
}

const FrameTokens& CompiledConstraint::frame_tokens(int32_t rule, int32_t state) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = frames_[static_cast<size_t>(grammar_->state_offset(rule) + state)];
  if (!slot) {
    slot = std::make_unique<FrameTokens>(classify_frame_tokens(*grammar_, *index_, rule, state));
    ++cached_;
  }
  return *slot;
}

int32_t CompiledConstraint::bytes_to_accept(int32_t state) const {
  std::call_once(dist_once_, [&] {
    // Breadth-first from the accepting states over reversed byte edges.
    const int32_t n = dfa_.num_states(), k = dfa_.num_classes;
    std::vector<std::vector<int32_t>> rev(static_cast<size_t>(n));
    for (int32_t s = 0; s < n; ++s) {
      for (int32_t c = 0; c < k; ++c) {
        const int32_t t = dfa_.next[static_cast<size_t>(s) * k + c];
        if (t >= 0) rev[static_cast<size_t>(t)].push_back(s);
      }
    }
    dist_.assign(static_cast<size_t>(n), -1);
    std::vector<int32_t> queue;
    for (int32_t s = 0; s < n; ++s) {
      if (dfa_.is_accepting(s)) dist_[static_cast<size_t>(s)] = 0, queue.push_back(s);
    }
    for (size_t i = 0; i < queue.size(); ++i) {
      for (int32_t p : rev[static_cast<size_t>(queue[i])]) {
        if (dist_[static_cast<size_t>(p)] < 0) {
          dist_[static_cast<size_t>(p)] = dist_[static_cast<size_t>(queue[i])] + 1;
          queue.push_back(p);
        }
      }
    }
  });
  return dist_[static_cast<size_t>(state)];
}

const TokenMask& CompiledConstraint::mask(int32_t state) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<TokenMask>& slot = masks_[state];
  if (!slot) {
    slot = std::make_unique<TokenMask>();
    compute_mask(state, slot.get());
    ++cached_;
  }
  return *slot;
}

int32_t CompiledConstraint::next_state(int32_t state, int32_t token) const {
  if (token < 0 || token >= index_->size()) return Dfa::kDead;
  const Vocabulary& v = index_->vocab();
  if (v.special[token] || index_->is_eos(token) || v.tokens[token].empty()) return Dfa::kDead;
  return dfa_.walk(state, v.tokens[token]);
}

bool CompiledConstraint::token_allowed(int32_t state, int32_t token) const {
  if (index_->is_eos(token)) return dfa_.is_accepting(state);
  return next_state(state, token) != Dfa::kDead;
}

size_t CompiledConstraint::cached_masks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_;
}

void CompiledConstraint::precompute_all_masks() const {
  if (grammar_) {
    for (int32_t r = 0; r < grammar_->num_rules(); ++r) {
      for (int32_t s = 0; s < grammar_->rule(r).num_states(); ++s) (void)frame_tokens(r, s);
    }
    return;
  }
  for (int32_t s = 0; s < dfa_.num_states(); ++s) (void)mask(s);
}

}  // namespace stemma::constrain
