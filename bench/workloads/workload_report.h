// Cache on vs off for one workload on the same weights, as JSON (shared by
// `stemma bench-workload` and the bench_workloads program).
#pragma once

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/workloads/workload_runner.h"
#include "engine/api/engine.h"
#include "engine/engine_internal.h"

namespace stemma::bench {

inline nlohmann::json to_json(const WorkloadResult& r) {
  return {{"requests", r.requests},
          {"prompt_tokens", r.prompt_tokens},
          {"generated_tokens", r.generated_tokens},
          {"wall_s", r.wall_s},
          {"requests_per_s", r.requests_per_s},
          {"tokens_per_s", r.tokens_per_s},
          {"latency_mean_s", r.latency_mean_s},
          {"latency_p50_s", r.latency_p50_s},
          {"latency_p90_s", r.latency_p90_s},
          {"hit_rate", r.hit_rate},
          {"best_hit_rate", r.best_hit_rate},
          {"prefill_tokens", r.stats.prefill_tokens},
          {"cached_tokens", r.stats.cached_tokens},
          {"evicted_pages", r.stats.evicted_pages},
          {"preemptions", r.stats.preemptions},
          {"steps", r.stats.steps}};
}

// Runs `w` with the radix cache on and off, alternating, `repeats` times each, on engines opened
// from `base` and `parts` (its radix_cache is overridden). Each side reports its median-throughput
// run: alternating spreads the noise of a shared machine over both sides.
inline Result<nlohmann::json> compare_cache_on_off(const EngineOptions& base,
                                                   const EngineParts& parts, const Workload& w,
                                                   int32_t parallel, int32_t repeats) {
  std::vector<WorkloadResult> runs[2];
  for (int32_t rep = 0; rep < std::max(1, repeats); ++rep) {
    for (int cache = 1; cache >= 0; --cache) {
      EngineOptions opts = base;
      opts.radix_cache = cache == 1;
      STEMMA_ASSIGN_OR_RETURN(auto engine, internal::open_engine(opts, parts));
      STEMMA_ASSIGN_OR_RETURN(WorkloadResult r, run_workload(*engine, w, parallel));
      runs[cache].push_back(r);
    }
  }
  nlohmann::json entry;
  entry["workload"] = w.name;
  WorkloadResult median[2];
  for (int cache = 0; cache < 2; ++cache) {
    auto& v = runs[cache];
    std::sort(v.begin(), v.end(),
              [](const auto& a, const auto& b) { return a.tokens_per_s < b.tokens_per_s; });
    median[cache] = v[v.size() / 2];
    entry[cache == 1 ? "cache_on" : "cache_off"] = to_json(median[cache]);
  }
  const auto& on = median[1];
  const auto& off = median[0];
  entry["hit_rate"] = on.hit_rate;
  entry["best_hit_rate"] = on.best_hit_rate;
  entry["hit_rate_vs_best"] = on.best_hit_rate > 0 ? on.hit_rate / on.best_hit_rate : 1.0;
  entry["throughput_ratio_on_off"] = off.tokens_per_s > 0 ? on.tokens_per_s / off.tokens_per_s : 0;
  return entry;
}

}  // namespace stemma::bench
