// Runs a Workload through an Engine the way a client would: every script's ready calls are
// submitted at once (up to `parallel` scripts in flight), children start when their parent's
// output arrives. Measures throughput, latency and cache hit rate, and the best hit rate any
// cache could reach for the order in which the calls were actually submitted.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "bench/workloads/workloads.h"
#include "engine/api/engine.h"

namespace stemma::bench {

struct WorkloadResult {
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double wall_s = 0;
  double requests_per_s = 0;
  double tokens_per_s = 0;  // (prompt + generated) tokens per second
  double latency_mean_s = 0;
  double latency_p50_s = 0;
  double latency_p90_s = 0;
  double output_tokens_per_s = 0;  // generated tokens per second
  // Time to first token, and time per output token after the first ((finish - first token) /
  // (tokens - 1), requests with at least 2 tokens), over requests.
  double ttft_p50_s = 0;
  double ttft_p99_s = 0;
  double tpot_p50_s = 0;
  double tpot_p99_s = 0;
  // Pages held when the engine is idle beyond those the prefix cache holds: 0 unless a page
  // leaked.
  int64_t leaked_pages = 0;
  double hit_rate = 0;       // cached / (cached + prefilled) prompt tokens, from the engine
  double best_hit_rate = 0;  // an unbounded cache, same submission order
  EngineStats stats;
};

// Length of the longest prefix of `prompt` (its last token excluded: it is always computed)
// that some earlier call had computed, summed over calls, over all prompt tokens.
inline double best_possible_hit_rate(const std::vector<std::vector<int32_t>>& prompts,
                                     const std::vector<std::vector<int32_t>>& computed) {
  int64_t best_sum = 0;
  int64_t total = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& p = prompts[i];
    const size_t limit = p.empty() ? 0 : p.size() - 1;
    size_t best = 0;
    for (size_t j = 0; j < i; ++j) {
      const auto& c = computed[j];
      const size_t n = std::min(limit, c.size());
      size_t k = 0;
      while (k < n && c[k] == p[k]) ++k;
      best = std::max(best, k);
    }
    best_sum += static_cast<int64_t>(best);
    total += static_cast<int64_t>(p.size());
  }
  return total == 0 ? 0.0 : static_cast<double>(best_sum) / static_cast<double>(total);
}

inline Result<WorkloadResult> run_workload(Engine& engine, const Workload& w, int32_t parallel) {
  using Clock = std::chrono::steady_clock;
  struct CallState {
    std::vector<int32_t> prompt;
    std::vector<int32_t> output;
    bool done = false;
    Clock::time_point submitted;
    double latency_s = 0;
    double first_token_s = -1;  // since submitted
  };
  std::vector<std::vector<CallState>> state(w.scripts.size());
  for (size_t s = 0; s < w.scripts.size(); ++s) state[s].resize(w.scripts[s].calls.size());
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<size_t, size_t>> ready;  // (script, call)
  std::vector<size_t> remaining(w.scripts.size());
  size_t next_script = 0;
  size_t scripts_done = 0;
  std::string failure;
  std::vector<std::pair<size_t, size_t>> order;  // submission order

  auto activate = [&](size_t s) {  // under mu
    remaining[s] = w.scripts[s].calls.size();
    for (size_t c = 0; c < w.scripts[s].calls.size(); ++c) {
      if (w.scripts[s].calls[c].parent < 0) ready.emplace_back(s, c);
    }
  };
  {
    std::lock_guard<std::mutex> lock(mu);
    while (next_script < w.scripts.size() && next_script < static_cast<size_t>(parallel)) {
      activate(next_script++);
    }
  }
  const auto start = Clock::now();
  std::unique_lock<std::mutex> lock(mu);
  while (scripts_done < w.scripts.size() && failure.empty()) {
    while (!ready.empty()) {
      auto [s, c] = ready.front();
      ready.pop_front();
      const Call& call = w.scripts[s].calls[c];
      CallState& cs = state[s][c];
      if (call.parent >= 0) {
        const CallState& p = state[s][static_cast<size_t>(call.parent)];
        cs.prompt = p.prompt;
        cs.prompt.insert(cs.prompt.end(), p.output.begin(), p.output.end());
      }
      cs.prompt.insert(cs.prompt.end(), call.append.begin(), call.append.end());
      cs.submitted = Clock::now();
      order.emplace_back(s, c);
      GenerationOptions opt;
      opt.temperature = 0.0f;
      opt.max_tokens = call.max_tokens;
      opt.ignore_eos = true;  // fixed lengths: cache on and off do the same work
      auto on_event = [&, s, c](const StreamEvent& e) {
        std::lock_guard<std::mutex> l(mu);
        CallState& st = state[s][c];
        if (st.first_token_s < 0 && !e.tokens.empty())
          st.first_token_s = std::chrono::duration<double>(Clock::now() - st.submitted).count();
        st.output.insert(st.output.end(), e.tokens.begin(), e.tokens.end());
        if (e.finish == FinishReason::kNone) return;
        st.done = true;
        st.latency_s = std::chrono::duration<double>(Clock::now() - st.submitted).count();
        if (e.finish == FinishReason::kError) failure = e.error.to_string();
        for (size_t k = 0; k < w.scripts[s].calls.size(); ++k) {
          if (w.scripts[s].calls[k].parent == static_cast<int32_t>(c)) ready.emplace_back(s, k);
        }
        if (--remaining[s] == 0) {
          ++scripts_done;
          if (next_script < w.scripts.size()) activate(next_script++);
        }
        cv.notify_all();
      };
      lock.unlock();
      auto id = engine.submit(cs.prompt, opt, on_event, /*keep_output=*/false);
      lock.lock();
      if (!id.ok()) {
        failure = id.status().to_string();
        break;
      }
    }
    cv.wait(lock,
            [&] { return !ready.empty() || scripts_done == w.scripts.size() || !failure.empty(); });
  }
  lock.unlock();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  engine.wait_idle();
  if (!failure.empty()) return Internal("workload " + w.name + ": " + failure);
  // (wait_idle above: no callback can touch this function's state after it returns)

  WorkloadResult r;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::vector<int32_t>> computed;
  std::vector<double> latencies;
  std::vector<double> ttfts;
  std::vector<double> tpots;
  for (auto [s, c] : order) {
    const CallState& cs = state[s][c];
    prompts.push_back(cs.prompt);
    auto ctx = cs.prompt;
    if (!cs.output.empty()) ctx.insert(ctx.end(), cs.output.begin(), cs.output.end() - 1);
    computed.push_back(std::move(ctx));
    latencies.push_back(cs.latency_s);
    if (cs.first_token_s >= 0) ttfts.push_back(cs.first_token_s);
    if (cs.output.size() >= 2 && cs.first_token_s >= 0) {
      tpots.push_back((cs.latency_s - cs.first_token_s) /
                      static_cast<double>(cs.output.size() - 1));
    }
    r.prompt_tokens += static_cast<int64_t>(cs.prompt.size());
    r.generated_tokens += static_cast<int64_t>(cs.output.size());
  }
  r.requests = static_cast<int64_t>(order.size());
  r.wall_s = wall;
  r.requests_per_s = wall > 0 ? static_cast<double>(r.requests) / wall : 0;
  r.tokens_per_s = wall > 0 ? static_cast<double>(r.prompt_tokens + r.generated_tokens) / wall : 0;
  r.output_tokens_per_s = wall > 0 ? static_cast<double>(r.generated_tokens) / wall : 0;
  auto quantile = [](std::vector<double>& v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  r.ttft_p50_s = quantile(ttfts, 0.5);
  r.ttft_p99_s = quantile(ttfts, 0.99);
  r.tpot_p50_s = quantile(tpots, 0.5);
  r.tpot_p99_s = quantile(tpots, 0.99);
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    double sum = 0;
    for (double l : latencies) sum += l;
    r.latency_mean_s = sum / static_cast<double>(latencies.size());
    r.latency_p50_s = latencies[latencies.size() / 2];
    r.latency_p90_s = latencies[latencies.size() * 9 / 10];
  }
  r.stats = engine.stats();
  r.leaked_pages = static_cast<int64_t>(r.stats.pages_in_use) - r.stats.cached_pages;
  r.hit_rate = r.stats.cache_hit_rate();
  r.best_hit_rate = best_possible_hit_rate(prompts, computed);
  return r;
}

}  // namespace stemma::bench
