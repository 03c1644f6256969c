// Cache on vs off for one workload on the same weights, as JSON (shared by
// `stemma bench-workload` and the bench_workloads program).
#pragma once

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
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
          {"output_tokens_per_s", r.output_tokens_per_s},
          {"ttft_p50_s", r.ttft_p50_s},
          {"ttft_p99_s", r.ttft_p99_s},
          {"tpot_p50_ms", r.tpot_p50_s * 1e3},
          {"tpot_p99_ms", r.tpot_p99_s * 1e3},
          {"leaked_pages", r.leaked_pages},
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

// The engine configurations the shared-prefix serving comparison runs (issue 14): everything on;
// the radix cache on but attention by the baseline plan (each request reads its whole context);
// no radix cache (every prompt computed in full).
inline std::vector<std::string> engine_variant_names() {
  return {"full", "baseline_attention", "no_radix"};
}

inline Status apply_engine_variant(const std::string& name, EngineOptions* opts) {
  if (name == "full") return OkStatus();
  if (name == "baseline_attention") {
    opts->shared_prefix_attention = false;
    return OkStatus();
  }
  if (name == "no_radix") {
    opts->radix_cache = false;
    return OkStatus();
  }
  return InvalidArgument("unknown engine variant '" + name +
                         "' (known: full, baseline_attention, no_radix)");
}

// Runs `w` once per variant per repeat (variants alternating, so a shared machine's noise falls
// on all of them), on engines opened from `base`; each variant reports its median run by output
// tokens/s. Ratios: TPOT p50 of baseline_attention over full, output tokens/s of full over
// no_radix (when those variants ran).
inline Result<nlohmann::json> compare_engine_variants(const EngineOptions& base,
                                                      const EngineParts& parts, const Workload& w,
                                                      const std::vector<std::string>& variants,
                                                      int32_t parallel, int32_t repeats) {
  std::vector<std::vector<WorkloadResult>> runs(variants.size());
  for (int32_t rep = 0; rep < std::max(1, repeats); ++rep) {
    for (size_t v = 0; v < variants.size(); ++v) {
      EngineOptions opts = base;
      STEMMA_RETURN_IF_ERROR(apply_engine_variant(variants[v], &opts));
      STEMMA_ASSIGN_OR_RETURN(auto engine, internal::open_engine(opts, parts));
      STEMMA_ASSIGN_OR_RETURN(WorkloadResult r, run_workload(*engine, w, parallel));
      runs[v].push_back(r);
    }
  }
  nlohmann::json entry;
  entry["workload"] = w.name;
  std::unordered_map<std::string, WorkloadResult> median;
  for (size_t v = 0; v < variants.size(); ++v) {
    auto& rs = runs[v];
    std::sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) {
      return a.output_tokens_per_s < b.output_tokens_per_s;
    });
    median[variants[v]] = rs[rs.size() / 2];
    entry[variants[v]] = to_json(rs[rs.size() / 2]);
  }
  if (median.count("full") && median.count("baseline_attention") && median["full"].tpot_p50_s > 0) {
    entry["tpot_p50_baseline_over_full"] =
        median["baseline_attention"].tpot_p50_s / median["full"].tpot_p50_s;
  }
  if (median.count("full") && median.count("no_radix") &&
      median["no_radix"].output_tokens_per_s > 0) {
    entry["throughput_full_over_no_radix"] =
        median["full"].output_tokens_per_s / median["no_radix"].output_tokens_per_s;
  }
  return entry;
}

}  // namespace stemma::bench
