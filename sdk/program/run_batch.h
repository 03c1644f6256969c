// run_batch: runs one program function over many inputs, `parallelism` states at a time, each
// on a fresh state (SGLang's run_batch). The engine batches the states' requests together.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "engine/api/status.h"
#include "sdk/program/program_state.h"

namespace stemma::program {

// Builds the program for input `index` on `state` (queueing operations; it may also wait).
// A non-OK return is the batch's error for that index.
using BatchFn = std::function<Status(size_t index, ProgramState& state)>;

struct BatchOptions {
  size_t parallelism = 0;   // states in flight at once; 0: all of them
  bool keep_states = true;  // return the states (else each is freed once it is done)
};

struct BatchResult {
  Status status;  // the first error (of fn or of a state's operations, lowest index first)
  std::vector<std::unique_ptr<ProgramState>> states;  // by index, when keep_states
};

// Runs fn(i, state_i) for i in [0, count) on worker threads; a worker waits for its state's
// operations before taking the next index, so at most `parallelism` states run at once.
BatchResult run_batch(const std::shared_ptr<Runtime>& runtime, size_t count, const BatchFn& fn,
                      const BatchOptions& options = {});

}  // namespace stemma::program
