#include "engine/constrain/grammar.h"

#include <algorithm>
#include <queue>

#include "engine/constrain/regex_ast.h"

namespace stemma::constrain {

namespace {

constexpr int32_t kFar = 1 << 29;  // "cannot reach the end" in distances

// Whether rule r's start reaches acceptance using byte edges (when `bytes`) and calls of the
// rules in `usable`.
bool reaches_accept(const Dfa& d, const std::vector<uint8_t>& usable, bool bytes) {
  const int32_t k = d.num_classes, fc = d.first_call_column();
  std::vector<uint8_t> seen(static_cast<size_t>(d.num_states()), 0);
  std::vector<int32_t> queue{d.start};
  seen[static_cast<size_t>(d.start)] = 1;
  for (size_t i = 0; i < queue.size(); ++i) {
    const int32_t s = queue[i];
    if (d.is_accepting(s)) return true;
    for (int32_t c = bytes ? 0 : fc; c < k; ++c) {
      if (c >= fc && !usable[static_cast<size_t>(d.call_rules[static_cast<size_t>(c - fc)])]) {
        continue;
      }
      const int32_t t = d.next[static_cast<size_t>(s) * k + c];
      if (t >= 0 && !seen[static_cast<size_t>(t)])
        seen[static_cast<size_t>(t)] = 1, queue.push_back(t);
    }
  }
  return false;
}

// Least fixpoint of "rule r reaches acceptance through calls of rules already in the set".
std::vector<uint8_t> fixpoint(const std::vector<Dfa>& rules, bool bytes) {
  std::vector<uint8_t> in(rules.size(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < rules.size(); ++r) {
      if (!in[r] && reaches_accept(rules[r], in, bytes)) in[r] = 1, changed = true;
    }
  }
  return in;
}

}  // namespace

Result<Grammar> compile_grammar(const GrammarSource& source, const GrammarOptions& options) {
  const size_t n = source.rules.size();
  if (!source.names.empty() && source.names.size() != n) {
    return InvalidArgument("grammar: " + std::to_string(source.names.size()) + " names for " +
                           std::to_string(n) + " rules");
  }
  if (options.max_stack_depth < 2) {
    return InvalidArgument("grammar: max_stack_depth must be at least 2");
  }
  Grammar g;
  g.root_ = static_cast<int32_t>(n);
  g.max_stack_depth_ = options.max_stack_depth;
  for (size_t i = 0; i < n; ++i) {
    g.names_.push_back(source.names.empty() ? "rule " + std::to_string(i) : source.names[i]);
  }
  g.names_.push_back("root");
  RegexParseOptions po;
  po.num_rules = static_cast<int32_t>(n);
  po.max_group_depth = kGeneratedRegexMaxDepth;
  size_t total = 0;
  for (size_t i = 0; i <= n; ++i) {
    const std::string& body = i < n ? source.rules[i] : source.root;
    auto ast = parse_regex(body, po);
    if (!ast.ok()) return ast.status().with_context("grammar rule '" + g.names_[i] + "'");
    auto dfa = build_dfa(*ast, options.dfa);
    if (!dfa.ok()) return dfa.status().with_context("grammar rule '" + g.names_[i] + "'");
    total += static_cast<size_t>(dfa->num_states());
    if (total > options.max_total_states) {
      return ResourceExhausted("grammar: over " + std::to_string(options.max_total_states) +
                               " automaton states in all rules");
    }
    g.rules_.push_back(std::move(*dfa));
  }

  // Rules that match nothing (e.g. a rule that can only call itself): cut every call of them,
  // so that each remaining call edge can finish.
  const std::vector<uint8_t> productive = fixpoint(g.rules_, /*bytes=*/true);
  if (!productive[n]) return InvalidArgument("grammar: the start matches nothing");
  for (Dfa& d : g.rules_) {
    const int32_t k = d.num_classes, fc = d.first_call_column();
    bool cut = false;
    for (int32_t c = fc; c < k; ++c) {
      if (productive[static_cast<size_t>(d.call_rules[static_cast<size_t>(c - fc)])]) continue;
      for (int32_t s = 0; s < d.num_states(); ++s) {
        cut = cut || d.next[static_cast<size_t>(s) * k + c] >= 0;
        d.next[static_cast<size_t>(s) * k + c] = Dfa::kDead;
      }
    }
    if (cut) d = prune_and_minimize(d);
  }

  // Left recursion: a rule that can call itself before reading a byte would make the stack
  // grow without input. Nullable rules (matching the empty string) are what let a call chain
  // pass without bytes.
  const std::vector<uint8_t> nullable = fixpoint(g.rules_, /*bytes=*/false);
  std::vector<std::vector<int32_t>> left_calls(n + 1);
  for (size_t r = 0; r <= n; ++r) {
    const Dfa& d = g.rules_[r];
    const int32_t k = d.num_classes, fc = d.first_call_column();
    std::vector<uint8_t> seen(static_cast<size_t>(d.num_states()), 0);
    std::vector<int32_t> queue{d.start};
    seen[static_cast<size_t>(d.start)] = 1;
    for (size_t i = 0; i < queue.size(); ++i) {
      for (int32_t c = fc; c < k; ++c) {
        const int32_t t = d.next[static_cast<size_t>(queue[i]) * k + c];
        if (t < 0) continue;
        const int32_t callee = d.call_rules[static_cast<size_t>(c - fc)];
        left_calls[r].push_back(callee);
        if (nullable[static_cast<size_t>(callee)] && !seen[static_cast<size_t>(t)]) {
          seen[static_cast<size_t>(t)] = 1;
          queue.push_back(t);
        }
      }
    }
  }
  // Depth-first search for a cycle of left calls, iterative (rules may be many).
  std::vector<uint8_t> color(n + 1, 0);         // 0 new, 1 on the path, 2 done
  std::vector<std::pair<size_t, size_t>> path;  // (rule, next left call to follow)
  for (size_t r0 = 0; r0 <= n; ++r0) {
    if (color[r0] != 0) continue;
    color[r0] = 1;
    path.assign(1, {r0, 0});
    while (!path.empty()) {
      auto& [r, i] = path.back();
      if (i == left_calls[r].size()) {
        color[r] = 2;
        path.pop_back();
        continue;
      }
      const size_t c = static_cast<size_t>(left_calls[r][i++]);
      if (color[c] == 1) {
        return Unsupported("grammar: left recursion: rule '" + g.names_[c] +
                           "' can call itself before reading a byte");
      }
      if (color[c] == 0) {
        color[c] = 1;
        path.push_back({c, 0});
      }
    }
  }

  g.index_calls();
  g.compute_distances();
  g.state_offset_.assign(1, 0);
  for (const Dfa& d : g.rules_) g.state_offset_.push_back(g.state_offset_.back() + d.num_states());
  return g;
}

void Grammar::index_calls() {
  call_begin_.assign(rules_.size(), {});
  calls_.assign(rules_.size(), {});
  for (size_t r = 0; r < rules_.size(); ++r) {
    const Dfa& d = rules_[r];
    auto& begin = call_begin_[r];
    begin.assign(1, 0);
    for (int32_t s = 0; s < d.num_states(); ++s) {
      for (size_t i = 0; i < d.call_rules.size(); ++i) {
        const int32_t t = d.call_target(s, i);
        if (t >= 0) calls_[r].push_back({d.call_rules[i], t});
      }
      begin.push_back(static_cast<int32_t>(calls_[r].size()));
    }
  }
}

void Grammar::compute_distances() {
  // Shortest completion per state, with calls weighted by the callee's shortest match; rounds
  // of per-rule Dijkstra until the rules' shortest matches stop changing (a shortest
  // derivation uses each rule at most once per path, so this takes at most num_rules + 1).
  const size_t n = rules_.size();
  dist_.assign(n, {});
  std::vector<int32_t> min_len(n, kFar);
  struct Rev {
    std::vector<std::vector<int32_t>> bytes;                     // t -> states with a byte to t
    std::vector<std::vector<std::pair<int32_t, int32_t>>> call;  // t -> (state, callee)
  };
  std::vector<Rev> rev(n);
  for (size_t r = 0; r < n; ++r) {
    const Dfa& d = rules_[r];
    const int32_t k = d.num_classes, fc = d.first_call_column();
    rev[r].bytes.assign(static_cast<size_t>(d.num_states()), {});
    rev[r].call.assign(static_cast<size_t>(d.num_states()), {});
    for (int32_t s = 0; s < d.num_states(); ++s) {
      for (int32_t c = 0; c < fc; ++c) {
        const int32_t t = d.next[static_cast<size_t>(s) * k + c];
        if (t < 0) continue;
        auto& v = rev[r].bytes[static_cast<size_t>(t)];
        if (v.empty() || v.back() != s) v.push_back(s);
      }
      for (const Call& call : calls(static_cast<int32_t>(r), s)) {
        rev[r].call[static_cast<size_t>(call.target)].push_back({s, call.rule});
      }
    }
  }
  for (size_t round = 0; round <= n + 1; ++round) {
    bool changed = false;
    for (size_t r = 0; r < n; ++r) {
      const Dfa& d = rules_[r];
      std::vector<int32_t>& dist = dist_[r];
      dist.assign(static_cast<size_t>(d.num_states()), kFar);
      using Item = std::pair<int32_t, int32_t>;  // (distance, state)
      std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
      for (int32_t s = 0; s < d.num_states(); ++s) {
        if (d.is_accepting(s)) dist[static_cast<size_t>(s)] = 0, heap.push({0, s});
      }
      while (!heap.empty()) {
        auto [ds, t] = heap.top();
        heap.pop();
        if (ds != dist[static_cast<size_t>(t)]) continue;
        for (int32_t s : rev[r].bytes[static_cast<size_t>(t)]) {
          if (ds + 1 < dist[static_cast<size_t>(s)]) {
            dist[static_cast<size_t>(s)] = ds + 1;
            heap.push({ds + 1, s});
          }
        }
        for (auto [s, callee] : rev[r].call[static_cast<size_t>(t)]) {
          const int32_t w = min_len[static_cast<size_t>(callee)];
          if (w >= kFar) continue;
          const int32_t nd = std::min(kFar, ds + w);
          if (nd < dist[static_cast<size_t>(s)]) {
            dist[static_cast<size_t>(s)] = nd;
            heap.push({nd, s});
          }
        }
      }
      const int32_t m = dist[static_cast<size_t>(d.start)];
      if (m != min_len[r]) min_len[r] = m, changed = true;
    }
    if (!changed) break;
  }
}

}  // namespace stemma::constrain
