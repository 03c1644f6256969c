#include "engine/constrain/dfa.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>

#include "engine/constrain/utf8.h"

namespace stemma::constrain {

int32_t Dfa::walk(int32_t state, std::string_view bytes) const {
  for (char c : bytes) {
    if (state == kDead) return kDead;
    state = step(state, static_cast<uint8_t>(c));
  }
  return state;
}

bool Dfa::matches(std::string_view bytes) const {
  if (empty_language()) return false;
  int32_t s = walk(start, bytes);
  return s != kDead && is_accepting(s);
}

bool Dfa::empty_language() const {
  if (num_states() == 0) return true;
  if (is_accepting(start)) return false;
  for (size_t i = 0; i < call_rules.size(); ++i) {
    if (call_target(start, i) != kDead) return false;
  }
  for (int b = 0; b < 256; ++b) {
    if (step(start, static_cast<uint8_t>(b)) != kDead) return false;
  }
  return true;
}

int Dfa::out_degree(int32_t state, uint8_t* only_byte) const {
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (step(state, static_cast<uint8_t>(b)) != kDead) {
      if (n == 0 && only_byte) *only_byte = static_cast<uint8_t>(b);
      if (++n > 1) return n;
    }
  }
  return n;
}

namespace {

struct NfaEdge {
  uint8_t lo, hi;
  int32_t to;
};

struct NfaState {
  std::vector<int32_t> eps;
  std::vector<NfaEdge> edges;
  std::vector<std::pair<int32_t, int32_t>> calls;  // (rule, to): grammar rule calls
};

struct Frag {
  int32_t start, end;
};

class NfaBuilder {
 public:
  NfaBuilder(const RegexAst& ast, size_t limit) : ast_(ast), limit_(limit) {}

  Result<Frag> build(int32_t id) {
    if (states_.size() > limit_) {
      return ResourceExhausted("regex automaton too large (over " + std::to_string(limit_) +
                               " NFA states); reduce repetition bounds");
    }
    const RegexNode& n = ast_.nodes[id];
    switch (n.kind) {
      case RegexKind::kNothing: {
        return Frag{add(), add()};  // no path from start to end
      }
      case RegexKind::kEmpty: {
        int32_t s = add();
        return Frag{s, s};
      }
      case RegexKind::kRule: {
        int32_t s = add(), e = add();
        states_[s].calls.push_back({n.min, e});
        return Frag{s, e};
      }
      case RegexKind::kChars: {
        int32_t s = add(), e = add();
        std::vector<Utf8Sequence> seqs;
        for (const CodepointRange& r : n.chars.ranges()) utf8_sequences(r.lo, r.hi, &seqs);
        for (const Utf8Sequence& q : seqs) {
          int32_t cur = s;
          for (int i = 0; i < q.length; ++i) {
            int32_t to = (i + 1 == q.length) ? e : add();
            states_[cur].edges.push_back({q.lo[i], q.hi[i], to});
            cur = to;
          }
        }
        return Frag{s, e};
      }
      case RegexKind::kConcat: {
        Frag f{-1, -1};
        for (int32_t c : n.children) {
          auto part = build(c);
          if (!part.ok()) return part.status();
          if (f.start < 0) {
            f = *part;
          } else {
            states_[f.end].eps.push_back(part->start);
            f.end = part->end;
          }
        }
        return f;
      }
      case RegexKind::kAlt: {
        int32_t s = add(), e = add();
        for (int32_t c : n.children) {
          auto part = build(c);
          if (!part.ok()) return part.status();
          states_[s].eps.push_back(part->start);
          states_[part->end].eps.push_back(e);
        }
        return Frag{s, e};
      }
      case RegexKind::kRepeat: {
        int32_t child = n.children[0];
        int32_t s = add();
        int32_t cur = s;
        for (int32_t i = 0; i < n.min; ++i) {
          auto part = build(child);
          if (!part.ok()) return part.status();
          states_[cur].eps.push_back(part->start);
          cur = part->end;
        }
        int32_t e = add();
        if (n.max < 0) {
          auto part = build(child);
          if (!part.ok()) return part.status();
          states_[cur].eps.push_back(part->start);
          states_[part->end].eps.push_back(part->start);
          states_[part->end].eps.push_back(e);
          states_[cur].eps.push_back(e);
        } else {
          for (int32_t i = n.min; i < n.max; ++i) {
            auto part = build(child);
            if (!part.ok()) return part.status();
            states_[cur].eps.push_back(part->start);
            states_[cur].eps.push_back(e);
            cur = part->end;
          }
          states_[cur].eps.push_back(e);
        }
        return Frag{s, e};
      }
    }
    return Internal("regex: unknown node kind");
  }

  std::vector<NfaState>& states() { return states_; }

 private:
  int32_t add() {
    states_.emplace_back();
    return static_cast<int32_t>(states_.size() - 1);
  }
  const RegexAst& ast_;
  size_t limit_;
  std::vector<NfaState> states_;
};

// Removes states that cannot reach an accepting state, renumbering the rest (start first).
Dfa prune_dead(const Dfa& in) {
  const int32_t n = in.num_states(), k = in.num_classes;
  auto at = [&](int32_t s, int32_t c) { return in.next[static_cast<size_t>(s) * k + c]; };
  std::vector<int32_t> rev_start(n + 1, 0), rev;
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t c = 0; c < k; ++c) {
      if (at(s, c) >= 0) ++rev_start[at(s, c) + 1];
    }
  }
  for (int32_t t = 0; t < n; ++t) rev_start[t + 1] += rev_start[t];
  rev.resize(rev_start[n]);
  {
    std::vector<int32_t> fill(rev_start.begin(), rev_start.end() - 1);
    for (int32_t s = 0; s < n; ++s) {
      for (int32_t c = 0; c < k; ++c) {
        if (at(s, c) >= 0) rev[fill[at(s, c)]++] = s;
      }
    }
  }
  std::vector<uint8_t> live(n, 0);
  std::vector<int32_t> queue;
  for (int32_t s = 0; s < n; ++s) {
    if (in.accepting[s]) live[s] = 1, queue.push_back(s);
  }
  for (size_t i = 0; i < queue.size(); ++i) {
    int32_t s = queue[i];
    for (int32_t j = rev_start[s]; j < rev_start[s + 1]; ++j) {
      if (!live[rev[j]]) live[rev[j]] = 1, queue.push_back(rev[j]);
    }
  }
  Dfa out;
  out.byte_class = in.byte_class;
  out.num_classes = k;
  out.call_rules = in.call_rules;
  if (n == 0 || !live[in.start]) {  // empty language: one state, nothing accepted
    out.accepting.assign(1, 0);
    out.next.assign(k, Dfa::kDead);
    return out;
  }
  // Renumber in BFS order from start so that only reachable, live states remain.
  std::vector<int32_t> id(n, -1);
  std::vector<int32_t> order;
  id[in.start] = 0;
  order.push_back(in.start);
  for (size_t i = 0; i < order.size(); ++i) {
    int32_t s = order[i];
    for (int32_t c = 0; c < k; ++c) {
      int32_t t = at(s, c);
      if (t >= 0 && live[t] && id[t] < 0) {
        id[t] = static_cast<int32_t>(order.size());
        order.push_back(t);
      }
    }
  }
  out.accepting.resize(order.size());
  out.next.assign(order.size() * k, Dfa::kDead);
  for (size_t i = 0; i < order.size(); ++i) {
    int32_t s = order[i];
    out.accepting[i] = in.accepting[s];
    for (int32_t c = 0; c < k; ++c) {
      int32_t t = at(s, c);
      out.next[i * k + c] = (t >= 0 && live[t]) ? id[t] : Dfa::kDead;
    }
  }
  return out;
}

// Hopcroft's partition refinement over byte equivalence classes, O(k n log n). Missing
// transitions go to an explicit sink state, which prune_dead removes again afterwards.
Dfa minimize(const Dfa& in) {
  const int32_t n = in.num_states();
  const int32_t sink = n, total = n + 1;
  const int32_t k = in.num_classes;
  auto target = [&](int32_t s, int32_t c) -> int32_t {
    if (s == sink) return sink;
    int32_t t = in.next[static_cast<size_t>(s) * k + c];
    return t < 0 ? sink : t;
  };
  // Inverse transitions per class, in CSR form.
  std::vector<int32_t> inv_start(static_cast<size_t>(k) * (total + 1), 0);
  std::vector<int32_t> inv(static_cast<size_t>(k) * total);
  for (int32_t c = 0; c < k; ++c) {
    int32_t* start = &inv_start[static_cast<size_t>(c) * (total + 1)];
    for (int32_t s = 0; s < total; ++s) ++start[target(s, c) + 1];
    for (int32_t t = 0; t < total; ++t) start[t + 1] += start[t];
    std::vector<int32_t> fill(start, start + total);
    for (int32_t s = 0; s < total; ++s) {
      inv[static_cast<size_t>(c) * total + fill[target(s, c)]++] = s;
    }
  }
  // Refinable partition.
  std::vector<int32_t> elems(total), loc(total), blk(total);
  std::vector<int32_t> first, past, marked;
  {
    int32_t pos = 0;
    for (int acc = 1; acc >= 0; --acc) {
      int32_t begin = pos;
      for (int32_t s = 0; s < total; ++s) {
        bool a = s != sink && in.accepting[s];
        if (a == (acc == 1))
          elems[pos] = s, loc[s] = pos, blk[s] = static_cast<int32_t>(first.size()), ++pos;
      }
      if (pos > begin) first.push_back(begin), past.push_back(pos), marked.push_back(begin);
    }
  }
  std::vector<uint8_t> in_work;
  std::vector<std::pair<int32_t, int32_t>> work;
  auto grow_flags = [&]() { in_work.resize(first.size() * static_cast<size_t>(k), 0); };
  grow_flags();
  for (int32_t b = 0; b < static_cast<int32_t>(first.size()); ++b) {
    for (int32_t c = 0; c < k; ++c) work.push_back({b, c}), in_work[b * k + c] = 1;
  }
  std::vector<int32_t> splitter, touched;
  while (!work.empty()) {
    auto [b, c] = work.back();
    work.pop_back();
    in_work[static_cast<size_t>(b) * k + c] = 0;
    splitter.assign(elems.begin() + first[b], elems.begin() + past[b]);
    touched.clear();
    const int32_t* start = &inv_start[static_cast<size_t>(c) * (total + 1)];
    for (int32_t t : splitter) {
      for (int32_t i = start[t]; i < start[t + 1]; ++i) {
        int32_t s = inv[static_cast<size_t>(c) * total + i];
        int32_t y = blk[s];
        int32_t p = loc[s];
        if (p < marked[y]) continue;  // already marked
        if (marked[y] == first[y]) touched.push_back(y);
        int32_t q = marked[y]++;
        int32_t other = elems[q];
        std::swap(elems[p], elems[q]);
        loc[other] = p;
        loc[s] = q;
      }
    }
    for (int32_t y : touched) {
      if (marked[y] == past[y]) {  // every state moved: no split
        marked[y] = first[y];
        continue;
      }
      int32_t ny = static_cast<int32_t>(first.size());
      first.push_back(first[y]);
      past.push_back(marked[y]);
      marked.push_back(first[y]);
      first[y] = marked[y];
      marked[y] = first[y];
      for (int32_t i = first[ny]; i < past[ny]; ++i) blk[elems[i]] = ny;
      grow_flags();
      int32_t size_y = past[y] - first[y], size_ny = past[ny] - first[ny];
      for (int32_t cc = 0; cc < k; ++cc) {
        if (in_work[static_cast<size_t>(y) * k + cc]) {
          work.push_back({ny, cc}), in_work[static_cast<size_t>(ny) * k + cc] = 1;
        } else {
          int32_t pick = size_ny <= size_y ? ny : y;
          work.push_back({pick, cc}), in_work[static_cast<size_t>(pick) * k + cc] = 1;
        }
      }
    }
  }
  const int32_t num_blocks = static_cast<int32_t>(first.size());
  Dfa merged;
  merged.start = blk[in.start];
  merged.byte_class = in.byte_class;
  merged.num_classes = k;
  merged.call_rules = in.call_rules;
  merged.accepting.assign(num_blocks, 0);
  merged.next.assign(static_cast<size_t>(num_blocks) * k, Dfa::kDead);
  const int32_t sink_block = blk[sink];
  for (int32_t s = 0; s < n; ++s) {
    int32_t b = blk[s];
    merged.accepting[b] = in.accepting[s];
    for (int32_t c = 0; c < k; ++c) {
      int32_t t = in.next[static_cast<size_t>(s) * k + c];
      merged.next[static_cast<size_t>(b) * k + c] =
          (t < 0 || blk[t] == sink_block) ? Dfa::kDead : blk[t];
    }
  }
  return prune_dead(merged);  // renumbers from start; drops the sink's block
}

}  // namespace

Result<Dfa> build_dfa(const RegexAst& ast, const DfaOptions& options) {
  NfaBuilder builder(ast, options.max_nfa_states);
  auto frag = builder.build(ast.root);
  if (!frag.ok()) return frag.status();
  std::vector<NfaState>& nfa = builder.states();
  const int32_t accept = frag->end;

  std::vector<uint32_t> mark(nfa.size(), 0);
  uint32_t generation = 0;
  std::vector<int32_t> stack;
  auto closure = [&](std::vector<int32_t>& set) {
    ++generation;
    stack.assign(set.begin(), set.end());
    set.clear();
    while (!stack.empty()) {
      int32_t s = stack.back();
      stack.pop_back();
      if (mark[s] == generation) continue;
      mark[s] = generation;
      set.push_back(s);
      for (int32_t t : nfa[s].eps) {
        if (mark[t] != generation) stack.push_back(t);
      }
    }
    // Keep only states that matter for the future: those with byte edges, or the accept state.
    std::vector<int32_t> kept;
    for (int32_t s : set) {
      if (!nfa[s].edges.empty() || !nfa[s].calls.empty() || s == accept) kept.push_back(s);
    }
    std::sort(kept.begin(), kept.end());
    set = std::move(kept);
  };

  // Global byte classes: the intervals between all edge boundaries.
  Dfa raw;
  std::vector<uint16_t> class_lo;  // first byte of each class
  {
    std::vector<uint8_t> cut(257, 0);
    cut[0] = 1;
    for (const NfaState& st : nfa) {
      for (const NfaEdge& e : st.edges) cut[e.lo] = 1, cut[e.hi + 1] = 1;
    }
    int32_t c = -1;
    for (int b = 0; b < 256; ++b) {
      if (cut[b]) ++c, class_lo.push_back(static_cast<uint16_t>(b));
      raw.byte_class[b] = static_cast<uint8_t>(c);
    }
    raw.num_classes = c + 1;
  }
  // Rule calls get one column each after the byte classes.
  std::vector<int32_t> call_column;  // by rule id, -1 when not called here
  for (const NfaState& st : nfa) {
    for (const auto& [rule, to] : st.calls) {
      (void)to;
      if (rule >= static_cast<int32_t>(call_column.size())) call_column.resize(rule + 1, -1);
      if (call_column[rule] < 0) {
        call_column[rule] = 0;
        raw.call_rules.push_back(rule);
      }
    }
  }
  std::sort(raw.call_rules.begin(), raw.call_rules.end());
  for (size_t i = 0; i < raw.call_rules.size(); ++i) {
    call_column[raw.call_rules[i]] = raw.num_classes + static_cast<int32_t>(i);
  }
  raw.num_classes += static_cast<int32_t>(raw.call_rules.size());
  const int32_t k = raw.num_classes;
  struct VecHash {
    size_t operator()(const std::vector<int32_t>& v) const {
      uint64_t h = 1469598103934665603ull;
      for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
      return static_cast<size_t>(h);
    }
  };
  std::unordered_map<std::vector<int32_t>, int32_t, VecHash> index;
  std::vector<std::vector<int32_t>> sets;
  std::vector<int32_t> init{frag->start};
  closure(init);
  index.emplace(init, 0);
  sets.push_back(std::move(init));
  std::vector<std::vector<int32_t>> targets(k);
  for (size_t d = 0; d < sets.size(); ++d) {
    if (sets.size() > options.max_dfa_states) {
      return ResourceExhausted("regex automaton too large (over " +
                               std::to_string(options.max_dfa_states) + " DFA states)");
    }
    raw.accepting.push_back(0);
    raw.next.resize(raw.next.size() + k, Dfa::kDead);
    for (auto& t : targets) t.clear();
    for (int32_t s : sets[d]) {
      if (s == accept) raw.accepting[d] = 1;
      for (const NfaEdge& e : nfa[s].edges) {
        for (int32_t c = raw.byte_class[e.lo]; c <= raw.byte_class[e.hi]; ++c) {
          targets[c].push_back(e.to);
        }
      }
      for (const auto& [rule, to] : nfa[s].calls) targets[call_column[rule]].push_back(to);
    }
    for (int32_t c = 0; c < k; ++c) {
      if (targets[c].empty()) continue;
      std::vector<int32_t> target = targets[c];
      closure(target);
      auto it = index.find(target);
      int32_t id;
      if (it == index.end()) {
        id = static_cast<int32_t>(sets.size());
        index.emplace(target, id);
        sets.push_back(std::move(target));
      } else {
        id = it->second;
      }
      raw.next[d * k + c] = id;
    }
  }
  Dfa pruned = prune_dead(raw);
  if (!options.minimize || pruned.empty_language()) return pruned;
  return minimize(pruned);
}

Dfa prune_and_minimize(const Dfa& dfa, bool minimize_states) {
  Dfa pruned = prune_dead(dfa);
  if (!minimize_states || pruned.empty_language()) return pruned;
  return minimize(pruned);
}

Result<Dfa> compile_regex(std::string_view pattern, const RegexParseOptions& parse_options,
                          const DfaOptions& options) {
  auto ast = parse_regex(pattern, parse_options);
  if (!ast.ok()) return ast.status();
  return build_dfa(*ast, options);
}

bool dfa_languages_disjoint(const Dfa& a, const Dfa& b) {
  if (a.empty_language() || b.empty_language()) return true;
  std::unordered_map<int64_t, bool> seen;
  std::vector<std::pair<int32_t, int32_t>> stack{{a.start, b.start}};
  seen[(int64_t(a.start) << 32) | uint32_t(b.start)] = true;
  while (!stack.empty()) {
    auto [x, y] = stack.back();
    stack.pop_back();
    if (a.is_accepting(x) && b.is_accepting(y)) return false;
    for (int c = 0; c < 256; ++c) {
      int32_t u = a.step(x, static_cast<uint8_t>(c)), v = b.step(y, static_cast<uint8_t>(c));
      if (u < 0 || v < 0) continue;
      int64_t key = (int64_t(u) << 32) | uint32_t(v);
      if (seen.emplace(key, true).second) stack.push_back({u, v});
    }
  }
  return true;
}

}  // namespace stemma::constrain
