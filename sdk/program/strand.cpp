#include "sdk/program/strand.h"

namespace stemma::program {

Strand::~Strand() {
  drain();
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) thread_.join();
}

void Strand::post(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_.push_back(std::move(task));
  if (running_) return;
  running_ = true;
  // The previous thread (if any) left loop() right after clearing running_ under this lock, so
  // joining it here does not wait on anything.
  if (thread_.joinable()) thread_.join();
  thread_ = std::thread(&Strand::loop, this);
}

void Strand::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return !running_; });
}

void Strand::loop() {
  while (true) {
    std::function<void()> task;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.empty()) {
        running_ = false;
        idle_cv_.notify_all();
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace stemma::program
