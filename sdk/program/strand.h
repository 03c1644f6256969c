// Strand: runs posted tasks one after another, in order, on a thread of its own that exists only
// while there is work (a program state that is idle holds no thread). Used so that each program
// state runs its operations asynchronously and in order while different states run at once.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace stemma::program {

class Strand {
 public:
  Strand() = default;
  // Waits for the posted tasks, then joins the thread.
  ~Strand();
  Strand(const Strand&) = delete;
  Strand& operator=(const Strand&) = delete;

  void post(std::function<void()> task);
  // Blocks until every task posted so far has run. Must not be called from a task of this
  // strand.
  void drain();

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> tasks_;
  bool running_ = false;  // a thread is draining tasks_
  std::thread thread_;
};

}  // namespace stemma::program
