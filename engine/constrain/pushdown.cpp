#include "engine/constrain/pushdown.h"

#include <algorithm>

namespace stemma::constrain {

namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

}  // namespace

int ByteSet::count() const {
  int n = 0;
  for (uint64_t w : bits) n += __builtin_popcountll(w);
  return n;
}

int ByteSet::first() const {
  for (int w = 0; w < 4; ++w) {
    if (bits[static_cast<size_t>(w)]) return w * 64 + __builtin_ctzll(bits[static_cast<size_t>(w)]);
  }
  return -1;
}

int32_t PushdownExec::push(int32_t rule, int32_t state, int32_t parent) {
  StackFrame f;
  f.rule = rule;
  f.state = state;
  f.parent = parent;
  if (parent >= 0) {
    const StackFrame& p = frames_[static_cast<size_t>(parent)];
    f.depth = p.depth + 1;
    f.below = p.below + g_->bytes_to_accept(p.rule, p.state);
    f.hash = mix(p.hash, (uint64_t(uint32_t(rule)) << 32) | uint32_t(state));
  } else {
    f.depth = 1;
    f.below = 0;
    f.hash = mix(uint64_t(uint32_t(parent)), (uint64_t(uint32_t(rule)) << 32) | uint32_t(state));
  }
  frames_.push_back(f);
  return static_cast<int32_t>(frames_.size() - 1);
}

bool PushdownExec::same_stack(int32_t a, int32_t b) const {
  while (a != b) {
    if (a < 0 || b < 0) return false;
    const StackFrame& x = frames_[static_cast<size_t>(a)];
    const StackFrame& y = frames_[static_cast<size_t>(b)];
    if (x.hash != y.hash || x.rule != y.rule || x.state != y.state || x.depth != y.depth) {
      return false;
    }
    a = x.parent;
    b = y.parent;
  }
  return true;
}

bool PushdownExec::contains(const std::vector<int32_t>& set, int32_t id) const {
  for (int32_t x : set) {
    if (same_stack(x, id)) return true;
  }
  return false;
}

void PushdownExec::close(std::span<const int32_t> in, std::vector<int32_t>* out, CloseInfo* info) {
  out->clear();
  work_.assign(in.rbegin(), in.rend());
  while (!work_.empty()) {
    const int32_t id = work_.back();
    work_.pop_back();
    if (contains(*out, id)) continue;
    out->push_back(id);
    const StackFrame f = frames_[static_cast<size_t>(id)];  // a copy: push() may reallocate
    for (const Grammar::Call& call : g_->calls(f.rule, f.state)) {
      if (f.depth + 1 > g_->max_stack_depth()) {
        info->too_deep = true;
        continue;
      }
      const int32_t caller = push(f.rule, call.target, f.parent);
      work_.push_back(push(call.rule, g_->rule(call.rule).start, caller));
    }
    if (g_->rule(f.rule).is_accepting(f.state)) {
      if (f.parent >= 0) {
        work_.push_back(f.parent);
      } else if (f.parent == kBottom) {
        info->can_end = true;
      } else {
        info->escapes = true;
      }
    }
  }
}

void PushdownExec::step(std::span<const int32_t> closed, uint8_t byte, std::vector<int32_t>* out) {
  out->clear();
  for (int32_t id : closed) {
    const StackFrame& f = frames_[static_cast<size_t>(id)];
    const int32_t t = g_->rule(f.rule).step(f.state, byte);
    if (t < 0) continue;
    const int32_t moved = push(f.rule, t, f.parent);
    if (contains(*out, moved)) {
      frames_.pop_back();
    } else {
      out->push_back(moved);
    }
  }
}

ByteSet PushdownExec::next_bytes(std::span<const int32_t> closed) const {
  ByteSet set;
  for (int32_t id : closed) {
    const StackFrame& f = frames_[static_cast<size_t>(id)];
    const Dfa& d = g_->rule(f.rule);
    for (int b = 0; b < 256; ++b) {
      if (d.step(f.state, static_cast<uint8_t>(b)) >= 0) set.set(static_cast<uint8_t>(b));
    }
  }
  return set;
}

int64_t PushdownExec::bytes_to_end(std::span<const int32_t> config) const {
  int64_t best = INT64_MAX;
  for (int32_t id : config) {
    const StackFrame& f = frames_[static_cast<size_t>(id)];
    best = std::min(best, f.below + g_->bytes_to_accept(f.rule, f.state));
  }
  return best;
}

PushdownMatcher::PushdownMatcher(const Grammar* grammar) : exec_(grammar) {
  const int32_t root = grammar->root();
  configs_.push_back(exec_.push(root, grammar->rule(root).start, PushdownExec::kBottom));
  history_.push_back({0, exec_.size()});
}

std::span<const int32_t> PushdownMatcher::config() const {
  const size_t begin = history_.back().config_begin;
  return {configs_.data() + begin, configs_.size() - begin};
}

std::span<const int32_t> PushdownMatcher::closed() {
  if (!closed_valid_) {
    exec_.truncate(history_.back().arena_mark);
    closed_info_ = {};
    std::span<const int32_t> c = config();
    a_.assign(c.begin(), c.end());
    exec_.close(a_, &closed_, &closed_info_);
    closed_mark_ = exec_.size();
    closed_valid_ = true;
  }
  return closed_;
}

Status PushdownMatcher::run(std::string_view bytes, std::vector<int32_t>* out) {
  std::span<const int32_t> from = closed();
  bool too_deep = closed_info_.too_deep;
  a_.assign(from.begin(), from.end());
  for (size_t i = 0; i < bytes.size(); ++i) {
    exec_.step(a_, static_cast<uint8_t>(bytes[i]), &b_);
    if (b_.empty()) {
      exec_.truncate(closed_mark_);
      if (too_deep) {
        return ResourceExhausted("constraint: the grammar would need a stack deeper than " +
                                 std::to_string(exec_.grammar().max_stack_depth()) +
                                 " frames (max_stack_depth)");
      }
      return InvalidArgument("constraint: byte " + std::to_string(i) +
                             " is not allowed by the grammar here");
    }
    if (i + 1 == bytes.size()) break;
    PushdownExec::CloseInfo info;
    exec_.close(b_, &a_, &info);
    too_deep = info.too_deep;
  }
  if (bytes.empty()) {
    std::span<const int32_t> c = config();
    out->assign(c.begin(), c.end());
  } else {
    out->assign(b_.begin(), b_.end());
  }
  return OkStatus();
}

Status PushdownMatcher::accept_bytes(std::string_view bytes) {
  std::vector<int32_t> next;
  STEMMA_RETURN_IF_ERROR(run(bytes, &next));
  history_.push_back({configs_.size(), exec_.size()});
  configs_.insert(configs_.end(), next.begin(), next.end());
  closed_valid_ = false;
  return OkStatus();
}

bool PushdownMatcher::probe(std::string_view bytes, int64_t* bytes_to_end) {
  std::vector<int32_t> next;
  if (!run(bytes, &next).ok()) return false;
  if (bytes_to_end) *bytes_to_end = exec_.bytes_to_end(next);
  exec_.truncate(closed_mark_);
  return true;
}

Status PushdownMatcher::rollback(size_t n) {
  if (n > num_steps()) {
    return OutOfRange("grammar: cannot roll back " + std::to_string(n) + " steps, only " +
                      std::to_string(num_steps()) + " taken");
  }
  if (n == 0) return OkStatus();
  configs_.resize(history_[history_.size() - n].config_begin);
  history_.resize(history_.size() - n);
  exec_.truncate(history_.back().arena_mark);
  closed_valid_ = false;
  return OkStatus();
}

bool PushdownMatcher::can_end() {
  (void)closed();
  return closed_info_.can_end;
}

ByteSet PushdownMatcher::allowed_bytes() {
  return exec_.next_bytes(closed());
}

std::string PushdownMatcher::forced_bytes(size_t max) {
  std::string out;
  std::span<const int32_t> start = closed();
  const size_t mark = exec_.size();
  std::vector<int32_t> cur(start.begin(), start.end()), next, tmp;
  bool end = closed_info_.can_end;
  while (!end && out.size() < max) {
    ByteSet bytes = exec_.next_bytes(cur);
    if (bytes.count() != 1) break;
    const uint8_t b = static_cast<uint8_t>(bytes.first());
    out.push_back(static_cast<char>(b));
    exec_.step(cur, b, &tmp);
    PushdownExec::CloseInfo info;
    exec_.close(tmp, &next, &info);
    end = info.can_end;
    cur.swap(next);
  }
  exec_.truncate(mark);
  return out;
}

int32_t PushdownMatcher::depth() const {
  int32_t d = 0;
  for (int32_t id : config()) d = std::max(d, exec_.frame(id).depth);
  return d;
}

}  // namespace stemma::constrain
