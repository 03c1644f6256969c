// StepInterrupt: lets a cancel from any thread abandon the model step in flight when the
// cancelled request is in it (issue 15 item 11: a cancel during a long prefill chunk took the
// whole chunk, 10 s, to take effect).
//
// The Engine owns one; its scheduler publishes the requests of each step before the forward
// (begin_step) and clears it after (end_step); Engine::cancel reports every cancel (cancel).
// The flag the executor checks (ModelExecutor::set_interrupt) is raised when a cancelled
// request is in the step in flight, or when one that is about to run was cancelled after the
// worker last took its cancels (so that no cancel can slip between the two). Raised, the
// executor returns Cancelled, the scheduler leaves every request of the step as it was before
// it (nothing computed, nothing cached) and the worker finishes the cancelled ones; the others
// run the same step again.
//
// Thread-safe: begin_step / end_step / take_cancels come from the worker thread, cancel and
// close from any thread.
#pragma once

#include <atomic>
#include <mutex>
#include <span>
#include <unordered_set>
#include <vector>

#include "engine/api/request.h"

namespace stemma::sched {

class StepInterrupt {
 public:
  // What the executor checks.
  const std::atomic<bool>* flag() const { return &raised_; }
  bool raised() const { return raised_.load(std::memory_order_relaxed); }

  // Worker: the step about to run computes `ids`. Raises the flag at once when one of them was
  // cancelled and not taken yet, or after close().
  void begin_step(std::span<const RequestId> ids);
  // Worker: the step is over; lowers the flag (unless closed).
  void end_step();
  // Worker: the cancels it is about to apply to the scheduler (they are no longer pending).
  void take_cancels();

  // Any thread: `id` is cancelled (the worker applies it at its next turn). Raises the flag
  // when `id` is in the step in flight.
  void cancel(RequestId id);
  // Any thread: abandon the step in flight and every later one (the engine is closing).
  void close();

 private:
  std::atomic<bool> raised_{false};
  std::mutex mu_;
  std::vector<RequestId> in_flight_;       // the step's requests (few: a linear scan)
  std::unordered_set<RequestId> pending_;  // cancelled, not yet taken by the worker
  bool closed_ = false;
};

}  // namespace stemma::sched
