#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "engine/backend/cpu/thread_pool.h"

using stemma::cpu::ThreadPool;

TEST_CASE("parallel_for runs every task exactly once, on every pool size") {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_thread{0};
      for (int rep = 0; rep < 20; ++rep) {
        pool.parallel_for(n, [&](int64_t task, int thread) {
          hits[static_cast<size_t>(task)].fetch_add(1);
          if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
        });
      }
      for (auto& h : hits) CHECK(h.load() == 20);
      CHECK(bad_thread.load() == 0);
    }
  }
}

TEST_CASE("parallel_for spreads work over the workers") {
  ThreadPool pool(2);
  std::atomic<int> by_worker{0};
  // Tasks that take a little while, so the caller cannot finish them all before a worker wakes.
  pool.parallel_for(64, [&](int64_t, int thread) {
    volatile double s = 0;
    for (int i = 0; i < 20000; ++i) s = s + i;
    if (thread == 1) by_worker.fetch_add(1);
  });
  CHECK(by_worker.load() > 0);
}
