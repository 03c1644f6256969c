#include "engine/backend/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define STEMMA_CPU_RELAX() _mm_pause()
#else
#define STEMMA_CPU_RELAX() std::this_thread::yield()
#endif

namespace stemma::cpu {
namespace {
// How long an idle worker spins before sleeping: long enough to bridge the gap between the
// parallel loops of one model step, short enough not to burn a shared core between steps.
constexpr auto kSpin = std::chrono::microseconds(200);
}  // namespace

Result<std::unique_ptr<ThreadPool>> ThreadPool::create(int num_threads, StartThread start) {
  if (num_threads < 1 || num_threads > kMaxThreads) {
    return InvalidArgument("thread pool: " + std::to_string(num_threads) +
                           " threads; must be in 1.." + std::to_string(kMaxThreads));
  }
  try {
    return std::make_unique<ThreadPool>(num_threads, start);
  } catch (const std::system_error& e) {
    return ResourceExhausted("thread pool: the OS refused a thread (" + std::string(e.what()) +
                             "); asked for " + std::to_string(num_threads) + " threads, try fewer");
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("thread pool: out of memory starting " + std::to_string(num_threads) +
                             " threads");
  }
}

ThreadPool::ThreadPool(int num_threads, const StartThread& start) {
  try {
    workers_.reserve(static_cast<size_t>(std::max(num_threads - 1, 0)));
    for (int t = 1; t < num_threads; ++t) {
      auto body = [this, t] { worker_main(t); };
      workers_.push_back(start ? start(body) : std::thread(body));
    }
  } catch (...) {
    // The workers already running wait for a job on this object's members: they must be
    // stopped and joined before the members unwind (a joinable std::thread's destructor
    // terminates the process).
    stop_and_join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  stop_and_join();
}

void ThreadPool::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void ThreadPool::drain(TaskFn fn, void* ctx, int64_t num_tasks, int thread) {
  const std::atomic<bool>* interrupt = interrupt_.load(std::memory_order_acquire);
  for (;;) {
    const int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= num_tasks) break;
    if (interrupt == nullptr || !interrupt->load(std::memory_order_relaxed)) fn(ctx, task, thread);
    done_tasks_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(int64_t num_tasks, TaskFn fn, void* ctx) {
  if (num_tasks <= 0) return;
  if (workers_.empty() || num_tasks == 1) {
    const std::atomic<bool>* interrupt = interrupt_.load(std::memory_order_relaxed);
    for (int64_t t = 0; t < num_tasks; ++t) {
      if (interrupt != nullptr && interrupt->load(std::memory_order_relaxed)) break;
      fn(ctx, t, 0);
    }
    return;
  }
  // Workers still inside the previous job (late risers that found no task) must leave it
  // first. The check is made under the mutex because workers join a job under it: checked
  // outside, a late riser could take the lock in between, read the previous job (whose context
  // is gone) and then drain it with the counters reset for this one.
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (active_workers_.load(std::memory_order_acquire) != 0) {
      lock.unlock();
      STEMMA_CPU_RELAX();
      continue;
    }
    fn_ = fn;
    ctx_ = ctx;
    num_tasks_ = num_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    done_tasks_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    break;
  }
  wake_.notify_all();
  drain(fn, ctx, num_tasks, 0);
  while (done_tasks_.load(std::memory_order_acquire) != num_tasks) STEMMA_CPU_RELAX();
}

void ThreadPool::worker_main(int thread) {
  uint64_t seen = 0;
  for (;;) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      STEMMA_CPU_RELAX();
      if (++spins % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        break;
      }
    }
    TaskFn fn;
    void* ctx;
    int64_t num_tasks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      fn = fn_;
      ctx = ctx_;
      num_tasks = num_tasks_;
      active_workers_.fetch_add(1, std::memory_order_acq_rel);
    }
    drain(fn, ctx, num_tasks, thread);
    active_workers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace stemma::cpu
