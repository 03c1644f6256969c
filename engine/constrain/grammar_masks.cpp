#include "engine/constrain/grammar_masks.h"

#include <algorithm>

namespace stemma::constrain {

namespace {

// Walks the trie nodes [begin, end) (all deeper than d0; those at depth d0 + 1 follow the
// start) from the one stack whose top is frame `start`, telling on_token about every token
// read with some stack left and on_escape about every node (with children) after which a kOpen
// bottom frame may pop. The common case, one frame of the start's rule and no calls, is stepped
// as a plain DFA without touching the arena.
class TrieWalk {
 public:
  TrieWalk(PushdownExec& exec, const TokenIndex& index)
      : exec_(exec), index_(index), slots_(static_cast<size_t>(index.max_token_bytes()) + 1) {}

  template <class OnToken, class OnEscape>
  int64_t run(int32_t begin, int32_t end, int32_t d0, int32_t start, OnToken&& on_token,
              OnEscape&& on_escape, bool* escapes_at_start) {
    const Grammar& g = exec_.grammar();
    const StackFrame f0 = exec_.frame(start);
    const int32_t base_rule = f0.rule, base_parent = f0.parent;
    const Dfa& d = g.rule(base_rule);
    auto simple_ok = [&](int32_t s) {
      return !g.has_calls(base_rule, s) && !(d.is_accepting(s) && base_parent >= 0);
    };
    auto simple_escapes = [&](int32_t s) {
      return base_parent == PushdownExec::kOpen && d.is_accepting(s);
    };
    const size_t mark0 = exec_.size();
    Slot& s0 = slots_[static_cast<size_t>(d0)];
    if (simple_ok(f0.state)) {
      s0.simple = f0.state;
      s0.escapes = simple_escapes(f0.state);
    } else {
      one_.assign(1, start);
      PushdownExec::CloseInfo info;
      exec_.close(one_, &s0.closed, &info);
      s0.simple = -1;
      s0.escapes = info.escapes;
    }
    s0.mark = exec_.size();
    if (escapes_at_start) *escapes_at_start = s0.escapes;

    const auto& nodes = index_.nodes();
    int64_t stepped = 0;
    int32_t i = begin;
    while (i < end) {
      const TokenIndex::Node& node = nodes[static_cast<size_t>(i)];
      const Slot& p = slots_[static_cast<size_t>(node.depth - 1)];
      Slot& c = slots_[static_cast<size_t>(node.depth)];
      exec_.truncate(p.mark);
      ++stepped;
      const bool has_children = node.subtree_end > i + 1;
      bool general = false;
      if (p.simple >= 0) {
        const int32_t t = d.step(p.simple, node.byte);
        if (t < 0) {
          i = node.subtree_end;
          continue;
        }
        if (simple_ok(t)) {
          c.simple = t;
          c.escapes = simple_escapes(t);
          c.mark = exec_.size();
        } else {
          tmp_.assign(1, exec_.push(base_rule, t, base_parent));
          general = true;
        }
      } else {
        exec_.step(p.closed, node.byte, &tmp_);
        if (tmp_.empty()) {
          i = node.subtree_end;
          continue;
        }
        general = true;
        if (tmp_.size() == 1) {
          const StackFrame& f = exec_.frame(tmp_[0]);
          if (f.rule == base_rule && f.parent == base_parent && simple_ok(f.state)) {
            c.simple = f.state;
            c.escapes = simple_escapes(f.state);
            c.mark = exec_.size();
            general = false;
          }
        }
      }
      if (general && has_children) {
        PushdownExec::CloseInfo info;
        exec_.close(tmp_, &c.closed, &info);
        c.simple = -1;
        c.escapes = info.escapes;
        c.mark = exec_.size();
      }
      if (node.token >= 0) on_token(node.token);
      if (has_children && c.escapes) on_escape(i, static_cast<int32_t>(node.depth));
      ++i;
    }
    exec_.truncate(mark0);
    return stepped;
  }

 private:
  struct Slot {
    int32_t simple = -1;          // the state of the one base-rule frame, or -1: see `closed`
    std::vector<int32_t> closed;  // the closed configuration (general case)
    size_t mark = 0;              // arena size once this slot was set up
    bool escapes = false;
  };
  PushdownExec& exec_;
  const TokenIndex& index_;
  std::vector<Slot> slots_;
  std::vector<int32_t> tmp_, one_;
};

}  // namespace

FrameTokens classify_frame_tokens(const Grammar& grammar, const TokenIndex& index, int32_t rule,
                                  int32_t state) {
  PushdownExec exec(&grammar);
  const int32_t start = exec.push(rule, state, PushdownExec::kOpen);
  FrameTokens out;
  out.accepted.resize(index.size());
  uint64_t* words = out.accepted.words();
  TrieWalk walk(exec, index);
  walk.run(
      0, static_cast<int32_t>(index.nodes().size()), 0, start,
      [&](int32_t token) { words[token >> 6] |= uint64_t{1} << (token & 63); },
      [&](int32_t node, int32_t depth) {
        out.escapes.push_back({node, depth});
      },
      &out.ends_at_start);
  // Context-dependent tokens: those under an escape node (nested ranges counted once).
  int32_t covered_to = 0;
  for (const FrameTokens::Escape& e : out.escapes) {
    const int32_t from = std::max(e.node + 1, covered_to);
    const int32_t to = index.nodes()[static_cast<size_t>(e.node)].subtree_end;
    for (int32_t i = from; i < to; ++i)
      out.dependent += index.nodes()[static_cast<size_t>(i)].token >= 0;
    covered_to = std::max(covered_to, to);
  }
  return out;
}

void grammar_mask(PushdownExec& exec, std::span<const int32_t> config, bool can_end,
                  const TokenIndex& index, const FrameTokensFn& frame_tokens, TokenMask* out,
                  GrammarMaskStats* stats) {
  out->resize(index.size());
  uint64_t* words = out->words();
  const size_t num_words = out->num_words();
  const size_t mark = exec.size();
  const auto& nodes = index.nodes();
  TrieWalk walk(exec, index);
  std::vector<int32_t> todo(config.rbegin(), config.rend()), done;
  while (!todo.empty()) {
    const int32_t id = todo.back();
    todo.pop_back();
    if (std::find(done.begin(), done.end(), id) != done.end()) continue;
    done.push_back(id);
    const StackFrame f = exec.frame(id);
    const FrameTokens& ft = frame_tokens(f.rule, f.state);
    const uint64_t* acc = ft.accepted.words();
    for (size_t w = 0; w < num_words; ++w) words[w] |= acc[w];
    if (stats) ++stats->frames;
    // Below the start rule nothing follows: tokens that end it early are never allowed.
    if (f.parent < 0) continue;
    for (const FrameTokens::Escape& e : ft.escapes) {
      const int64_t n = walk.run(
          e.node + 1, nodes[static_cast<size_t>(e.node)].subtree_end, e.depth, f.parent,
          [&](int32_t token) { words[token >> 6] |= uint64_t{1} << (token & 63); },
          [](int32_t, int32_t) {}, nullptr);
      if (stats) ++stats->escape_walks, stats->walked_nodes += n;
    }
    if (ft.ends_at_start) todo.push_back(f.parent);
  }
  for (const auto& [node, token] : index.extra_tokens()) {
    if (out->test(nodes[static_cast<size_t>(node)].token)) out->set(token);
  }
  if (can_end) {
    for (int32_t id : index.vocab().eos_ids) out->set(id);
  }
  exec.truncate(mark);
}

}  // namespace stemma::constrain
