#include "sdk/program/run_batch.h"

#include <atomic>
#include <mutex>
#include <thread>

namespace stemma::program {

BatchResult run_batch(const std::shared_ptr<Runtime>& runtime, size_t count, const BatchFn& fn,
                      const BatchOptions& options) {
  BatchResult result;
  if (count == 0) return result;
  if (!fn) {
    result.status = InvalidArgument("run_batch: no program function");
    return result;
  }
  const size_t workers = options.parallelism == 0 ? count : std::min(options.parallelism, count);
  if (options.keep_states) result.states.resize(count);
  std::vector<Status> errors(count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= count) return;
      std::unique_ptr<ProgramState> state = ProgramState::create(runtime);
      Status s = fn(i, *state);
      Status ran = state->wait();
      errors[i] = !s.ok() ? std::move(s) : std::move(ran);
      if (options.keep_states) result.states[i] = std::move(state);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < count; ++i) {
    if (!errors[i].ok()) {
      result.status = errors[i].with_context("run_batch: input " + std::to_string(i));
      break;
    }
  }
  return result;
}

}  // namespace stemma::program
