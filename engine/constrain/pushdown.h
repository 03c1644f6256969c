// The pushdown executor over a Grammar. A stack is a chain of frames (rule, state), the top
// one being the rule being read; a call pushes the called rule's start, and a rule in an
// accepting state may pop (its caller continues at the call's target). A configuration is a
// set of stacks, because a grammar may be ambiguous for a while (a call and a byte, or two
// calls, that start alike); stacks are persistent (frames live in an arena and point at the
// frame below), so stacks share their bottoms and a step adds only new tops.
//
// PushdownExec holds the arena and the primitive moves; PushdownMatcher is one text's position
// (bytes in, rollback, can_end, allowed and forced bytes), what ConstraintState runs on.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/grammar.h"

namespace stemma::constrain {

struct StackFrame {
  int32_t rule;
  int32_t state;
  int32_t parent;  // the frame below, or PushdownExec::kBottom / kOpen
  int32_t depth;   // frames in this stack, this one included
  uint64_t hash;   // of every (rule, state) from here down: a quick "differs" test
  int64_t below;   // fewest bytes that finish the frames below this one
};

// A 256-bit byte set.
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  void set(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
  bool test(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  int count() const;
  int first() const;  // the lowest byte in the set, or -1
};

class PushdownExec {
 public:
  static constexpr int32_t kBottom = -1;  // below the start rule's frame: popping it ends the text
  static constexpr int32_t kOpen = -2;    // below a frame read without its context (token classes)

  explicit PushdownExec(const Grammar* grammar) : g_(grammar) {}
  const Grammar& grammar() const { return *g_; }

  int32_t push(int32_t rule, int32_t state, int32_t parent);
  const StackFrame& frame(int32_t id) const { return frames_[static_cast<size_t>(id)]; }
  size_t size() const { return frames_.size(); }
  // Drops frames from `n` on (everything built after the arena had n frames).
  void truncate(size_t n) { frames_.resize(n); }
  // Same frames all the way down (ids may differ).
  bool same_stack(int32_t a, int32_t b) const;

  struct CloseInfo {
    bool can_end = false;   // some stack popped its kBottom frame: the text may end here
    bool escapes = false;   // some stack popped its kOpen frame
    bool too_deep = false;  // a call was not taken: it would pass max_stack_depth
  };
  // Adds to `in` (deduplicated stacks) every stack reachable without reading a byte: calls
  // push the called rule's start, accepting tops pop. Result in `out`; `in` may not alias it.
  void close(std::span<const int32_t> in, std::vector<int32_t>* out, CloseInfo* info);
  // The stacks of a closed configuration that read `byte`, moved over it (deduplicated).
  void step(std::span<const int32_t> closed, uint8_t byte, std::vector<int32_t>* out);
  // The bytes some stack of a closed configuration can read.
  ByteSet next_bytes(std::span<const int32_t> closed) const;
  // Fewest bytes that finish some stack of `config` (kBottom stacks).
  int64_t bytes_to_end(std::span<const int32_t> config) const;

 private:
  bool contains(const std::vector<int32_t>& set, int32_t id) const;

  const Grammar* g_;
  std::vector<StackFrame> frames_;
  std::vector<int32_t> work_;
};

// One text's position in a grammar. Every accept_bytes call is one step of the history, so
// rollback(n) undoes the last n of them (ConstraintState makes one per token).
class PushdownMatcher {
 public:
  explicit PushdownMatcher(const Grammar* grammar);

  // Reads `bytes` as one step. Fails with nothing changed: InvalidArgument when the grammar
  // does not allow them here, ResourceExhausted when only a stack deeper than the grammar's
  // max_stack_depth would.
  Status accept_bytes(std::string_view bytes);
  // Whether accept_bytes(bytes) would succeed, without changing anything; with `bytes_to_end`,
  // the fewest bytes that would finish the text afterwards.
  bool probe(std::string_view bytes, int64_t* bytes_to_end = nullptr);
  Status rollback(size_t n);
  size_t num_steps() const { return history_.size() - 1; }

  bool can_end();
  ByteSet allowed_bytes();
  // The bytes the grammar forces from here (one allowed byte and no end), at most `max`.
  std::string forced_bytes(size_t max);
  // Fewest bytes that finish the text from here (0 when it may end now).
  int64_t bytes_to_end() const { return exec_.bytes_to_end(config()); }
  // The deepest stack now.
  int32_t depth() const;
  size_t num_stacks() const { return config().size(); }

  // The stacks' tops (before closure), and their closure (cached until the next change).
  std::span<const int32_t> config() const;
  std::span<const int32_t> closed();
  PushdownExec& exec() { return exec_; }

 private:
  struct Entry {
    size_t config_begin;  // into configs_
    size_t arena_mark;    // frames once this configuration was built
  };
  // Reads bytes from the current closure; final (unclosed) stacks in `out`.
  Status run(std::string_view bytes, std::vector<int32_t>* out);

  PushdownExec exec_;
  std::vector<Entry> history_;
  std::vector<int32_t> configs_;
  bool closed_valid_ = false;
  std::vector<int32_t> closed_;
  PushdownExec::CloseInfo closed_info_;
  size_t closed_mark_ = 0;
  std::vector<int32_t> a_, b_;
};

}  // namespace stemma::constrain
