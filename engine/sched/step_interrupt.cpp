// StepInterrupt (step_interrupt.h): the requests of the step in flight and the cancels the
// worker has not taken yet, under one mutex; the flag is an atomic the executor polls.
#include "engine/sched/step_interrupt.h"

#include <algorithm>

namespace stemma::sched {

void StepInterrupt::begin_step(std::span<const RequestId> ids) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.assign(ids.begin(), ids.end());
  bool raise = closed_;
  for (RequestId id : in_flight_) raise = raise || pending_.count(id) > 0;
  if (raise) raised_.store(true, std::memory_order_relaxed);
}

void StepInterrupt::end_step() {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.clear();
  if (!closed_) raised_.store(false, std::memory_order_relaxed);
}

void StepInterrupt::take_cancels() {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.clear();
}

void StepInterrupt::cancel(RequestId id) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.insert(id);
  if (std::find(in_flight_.begin(), in_flight_.end(), id) != in_flight_.end()) {
    raised_.store(true, std::memory_order_relaxed);
  }
}

void StepInterrupt::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  raised_.store(true, std::memory_order_relaxed);
}

}  // namespace stemma::sched
