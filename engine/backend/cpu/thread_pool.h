// A pool of persistent worker threads with a low-overhead parallel-for. The engine owns these
// threads: a model step issues hundreds of parallel loops, so waking workers must cost
// microseconds (workers spin briefly, then sleep on a condition variable).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "engine/api/status.h"

namespace stemma::cpu {

class ThreadPool {
 public:
  // The most threads a pool may have (the caller included): far more than any CPU here has
  // cores, few enough that a typo (threads = 10000) is an error instead of a fork bomb.
  static constexpr int kMaxThreads = 1024;

  // Starts one worker thread that runs `body` (std::thread by default). Tests pass one that
  // fails, as the OS does when a pids cgroup or RLIMIT_NPROC refuses a thread.
  using StartThread = std::function<std::thread(std::function<void()> body)>;

  // A pool of `num_threads` (1..kMaxThreads; it counts the calling thread: a pool of 1 runs
  // everything on the caller). InvalidArgument outside that range; ResourceExhausted naming the
  // thread when the OS refuses one (the workers already started are stopped and joined first).
  static Result<std::unique_ptr<ThreadPool>> create(int num_threads, StartThread start = {});

  // As create(), throwing std::system_error when a thread cannot be started (after stopping
  // and joining the ones that were).
  explicit ThreadPool(int num_threads, const StartThread& start = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // The flag parallel_for checks before each task (nullptr: none). Set between loops, from the
  // thread that calls parallel_for.
  void set_interrupt(const std::atomic<bool>* flag) {
    interrupt_.store(flag, std::memory_order_release);
  }

  // Calls fn(task, thread) for every task in [0, num_tasks), tasks handed out dynamically to
  // the workers and the caller; `thread` is in [0, size()). Returns when all tasks are done.
  // While the interrupt flag is raised, the tasks not yet started are skipped instead (their
  // outputs are left as they were): the caller checks the flag after the loop.
  // Not reentrant: call it from one thread at a time and never from inside `fn`.
  template <typename Fn>
  void parallel_for(int64_t num_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(
        num_tasks,
        [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using TaskFn = void (*)(void* ctx, int64_t task, int thread);
  void run(int64_t num_tasks, TaskFn fn, void* ctx);
  void worker_main(int thread);
  void drain(TaskFn fn, void* ctx, int64_t num_tasks, int thread);
  void stop_and_join();

  std::vector<std::thread> workers_;
  // The current job, published under `mutex_`; `generation_` changes when a new one is.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t num_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int64_t> done_tasks_{0};
  // Workers that took the current job and may still touch its counters. The caller waits only
  // for finished tasks (never for a sleeping worker to wake), and for this to reach zero before
  // it publishes the next job.
  std::atomic<int> active_workers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<const std::atomic<bool>*> interrupt_{nullptr};
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace stemma::cpu
