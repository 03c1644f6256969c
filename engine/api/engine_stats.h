// EngineStats: the engine's counters since it was opened (prefix cache, KV pages, batching),
// the one statistics struct every layer reports (Engine::stats, stemma_engine_stats_get).
#pragma once

#include <cstdint>

namespace stemma {

struct EngineStats {
  int64_t cached_tokens = 0;        // prompt tokens served from the prefix cache
  int64_t prefill_tokens = 0;       // prompt tokens computed
  int64_t computed_tokens = 0;      // all tokens run through the model (prefill + decode +
                                    // recompute after preemption)
  int64_t generated_tokens = 0;     // tokens sampled
  int64_t jump_forward_tokens = 0;  // tokens appended without a model step (jump-forward
                                    // appended minus the sampled tokens it re-spelled)
  int64_t evicted_pages = 0;        // pages dropped from the prefix cache to make room
  int64_t preemptions = 0;          // running requests paused for lack of pages
  int64_t steps = 0;                // model forwards
  int64_t interrupted_steps = 0;    // forwards abandoned for a cancel of a request in them
                                    // (their requests ran the step again)
  int32_t pages_in_use = 0;
  int32_t pages_total = 0;
  int32_t cached_pages = 0;  // pages held by the prefix cache
  int32_t running = 0;
  int32_t queued = 0;
  // cached / (cached + prefilled) prompt tokens.
  double cache_hit_rate() const {
    const int64_t all = cached_tokens + prefill_tokens;
    return all == 0 ? 0.0 : static_cast<double>(cached_tokens) / static_cast<double>(all);
  }
};

}  // namespace stemma
