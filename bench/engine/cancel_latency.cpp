// cancel_latency (--model PATH | --config HF_CONFIG.json [--type q8_0]) [--prompt 2000]
//                [--repeats 7] [--baseline-repeats 3] [--threads T] [--seed S]
// Cancel latency during a long prefill (issue 15 item 11): submits a prompt of --prompt random
// tokens as ONE prefill chunk (prefill_chunk = max_batch_tokens = the prompt), cancels it
// while that step runs, and reports the time from Engine::cancel() to the kCancelled event
// (median and max over the repeats), with the step interrupt on and, in the same run on the
// same weights, off (the baseline: the cancel waits for the step to end). The cancel comes at
// 20%..60% of the uninterrupted step (measured first), spread over the repeats. Prints JSON.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/api/engine.h"
#include "engine/engine_internal.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace stemma;

int usage_error(const std::string& what) {
  std::cerr << "cancel_latency: " << what << "\n";
  return 2;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Args {
  std::string model, config, type = "q8_0";
  int prompt = 2000, repeats = 7, baseline_repeats = 3, threads = 0;
  uint64_t seed = 1;
};

std::vector<int32_t> random_prompt(int n, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(3, vocab - 1);  // clear of BOS/EOS-like low ids
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(static_cast<int32_t>(pick(rng)));
  return p;
}

Result<std::unique_ptr<Engine>> open(const Args& a, std::shared_ptr<const LoadedModel> model,
                                     bool interrupt) {
  EngineOptions o;
  o.threads = a.threads;
  o.prefill_chunk = a.prompt;
  o.max_batch_tokens = a.prompt;
  o.radix_cache = false;  // every repeat computes its whole prompt
  const ModelConfig& c = model->config;
  const int64_t page_bytes = 2 * c.num_layers * c.num_kv_heads * c.head_dim * o.page_size * 4;
  o.kv_memory_bytes = std::max<int64_t>(o.kv_memory_bytes, page_bytes * (a.prompt / 16 + 8));
  EngineParts parts;
  parts.model = std::move(model);
  parts.step_interrupt = interrupt;
  return internal::open_engine(o, parts);
}

// One request: submitted, cancelled after `delay`, the cancel-to-event time returned.
struct Sample {
  double latency_ms = 0;
  bool cancelled = false;
};

Result<Sample> cancel_once(Engine& engine, std::vector<int32_t> prompt, Clock::duration delay) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Clock::time_point finished;
  FinishReason finish = FinishReason::kNone;
  GenerationOptions g;
  g.max_tokens = 16;  // still running after its prefill: the baseline's cancel ends it next step
  auto on_event = [&](const StreamEvent& e) {
    if (e.finish == FinishReason::kNone) return;
    std::lock_guard<std::mutex> lock(mu);
    finished = Clock::now();
    finish = e.finish;
    done = true;
    cv.notify_all();
  };
  STEMMA_ASSIGN_OR_RETURN(RequestId id, engine.submit(std::move(prompt), g, on_event, false));
  std::this_thread::sleep_for(delay);
  const Clock::time_point asked = Clock::now();
  STEMMA_RETURN_IF_ERROR(engine.cancel(id));
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return Sample{ms(finished - asked), finish == FinishReason::kCancelled};
}

nlohmann::json summarize(std::vector<double> v, int cancelled, int64_t interrupted_steps) {
  std::sort(v.begin(), v.end());
  nlohmann::json j;
  j["samples_ms"] = v;
  j["median_ms"] = v.empty() ? 0.0 : v[v.size() / 2];
  j["max_ms"] = v.empty() ? 0.0 : v.back();
  j["cancelled"] = cancelled;  // events that were kCancelled (not finished first)
  j["interrupted_steps"] = interrupted_steps;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return usage_error("missing value after " + k);
    std::string v = argv[++i];
    try {
      if (k == "--model")
        a.model = v;
      else if (k == "--config")
        a.config = v;
      else if (k == "--type")
        a.type = v;
      else if (k == "--prompt")
        a.prompt = std::stoi(v);
      else if (k == "--repeats")
        a.repeats = std::stoi(v);
      else if (k == "--baseline-repeats")
        a.baseline_repeats = std::stoi(v);
      else if (k == "--threads")
        a.threads = std::stoi(v);
      else if (k == "--seed")
        a.seed = std::stoull(v);
      else
        return usage_error("unknown option " + k);
    } catch (const std::exception&) {
      return usage_error("bad number for " + k + ": " + v);
    }
  }
  if (a.model.empty() == a.config.empty()) return usage_error("give --model or --config");
  if (a.prompt < 16 || a.repeats < 1 || a.baseline_repeats < 1) {
    return usage_error("--prompt must be >= 16, --repeats and --baseline-repeats >= 1");
  }

  Result<LoadedModel> loaded = Unsupported("");
  if (!a.model.empty()) {
    loaded = load_model(a.model);
  } else {
    std::ifstream in(a.config);
    if (!in) return usage_error("cannot read " + a.config);
    std::stringstream text;
    text << in.rdbuf();
    auto config = parse_hf_config(text.str(), a.config);
    if (!config.ok()) return usage_error(config.status().to_string());
    auto type = dtype_from_name(a.type);
    if (!type) return usage_error("unknown --type " + a.type);
    loaded = make_dummy_model(*config, *type, a.seed);
  }
  if (!loaded.ok()) return usage_error(loaded.status().to_string());
  auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
  const int64_t vocab = model->config.vocab_size;

  // The uninterrupted step: one prefill of the whole prompt (and its one output token).
  auto plain = open(a, model, /*interrupt=*/false);
  if (!plain.ok()) return usage_error(plain.status().to_string());
  GenerationOptions one;
  one.max_tokens = 1;
  (void)(*plain)->generate(random_prompt(64, vocab, a.seed + 999), one);  // warm-up
  std::vector<double> steps;
  for (int r = 0; r < a.baseline_repeats && r < 2; ++r) {
    const auto t0 = Clock::now();
    auto out = (*plain)->generate(random_prompt(a.prompt, vocab, a.seed + 500 + r), one);
    if (!out.ok()) return usage_error(out.status().to_string());
    steps.push_back(ms(Clock::now() - t0));
  }
  std::sort(steps.begin(), steps.end());
  const double step_ms = steps[0];

  auto delay_for = [&](int r, int n) {  // 20%..60% of the step, spread over the repeats
    const double f = n == 1 ? 0.4 : 0.2 + 0.4 * static_cast<double>(r) / (n - 1);
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>(step_ms * f));
  };
  nlohmann::json report;
  report["model"] = a.model.empty() ? a.config + " (" + a.type + ", dummy weights)" : a.model;
  report["layers"] = model->config.num_layers;
  report["hidden_size"] = model->config.hidden_size;
  report["prompt_tokens"] = a.prompt;
  report["threads"] = a.threads;
  report["step_ms"] = step_ms;
  for (bool interrupt : {true, false}) {
    auto engine = interrupt ? open(a, model, true) : std::move(plain);
    if (!engine.ok()) return usage_error(engine.status().to_string());
    const int n = interrupt ? a.repeats : a.baseline_repeats;
    std::vector<double> lat;
    int cancelled = 0;
    for (int r = 0; r < n; ++r) {
      auto s = cancel_once(**engine, random_prompt(a.prompt, vocab, a.seed + 1000 * (r + 1)),
                           delay_for(r, n));
      if (!s.ok()) return usage_error(s.status().to_string());
      lat.push_back(s->latency_ms);
      cancelled += s->cancelled ? 1 : 0;
    }
    (*engine)->wait_idle();
    report[interrupt ? "interrupt" : "baseline"] =
        summarize(lat, cancelled, (*engine)->stats().interrupted_steps);
  }
  std::cout << report.dump(2) << "\n";
  return 0;
}
