// Jump-forward through the engine: every fixture schema generated twice with the same seed,
// jump-forward on and off, by a real model (default models/stemma-faq.gguf) with no steering.
// Reports the model steps each output needed (sampled tokens; forced ones take none), the
// share of output tokens appended without a model step, and wall time of each mode.
// Usage: engine_jump_forward_bench [--model PATH] [--temperature T] [--seeds N]
//                                  [--max-tokens N] [--threads N] [--stride K]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/api/engine.h"
#include "engine/engine_internal.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Run {
  stemma::FinishReason finish = stemma::FinishReason::kNone;
  int64_t tokens = 0;
  int64_t forced = 0;
};

struct ModeResult {
  std::vector<Run> runs;
  double seconds = 0.0;
  int64_t engine_steps = 0;
};

ModeResult run_mode(
    stemma::Engine& engine,
    const std::vector<std::shared_ptr<const stemma::constrain::CompiledConstraint>>& cs,
    const std::vector<int32_t>& prompt, bool jump, int seeds, float temperature,
    int32_t max_tokens) {
  ModeResult out;
  const auto before = engine.stats();
  const auto t0 = Clock::now();
  std::vector<stemma::RequestId> ids;
  for (size_t i = 0; i < cs.size(); ++i) {
    for (int s = 0; s < seeds; ++s) {
      stemma::SamplingOptions o;
      o.temperature = temperature;
      o.seed = 1000 * i + static_cast<uint64_t>(s);
      o.max_tokens = max_tokens;
      o.constraint = cs[i];
      o.jump_forward = jump;
      auto id = stemma::internal::submit(engine, prompt, o);
      if (!id.ok()) {
        std::cerr << id.status().to_string() << "\n";
        std::exit(1);
      }
      ids.push_back(*id);
    }
  }
  for (auto id : ids) {
    auto r = engine.wait(id);
    if (!r.ok()) std::exit(1);
    out.runs.push_back({r->finish, static_cast<int64_t>(r->tokens.size()), r->jump_forward_tokens});
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  out.engine_steps = engine.stats().steps - before.steps;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[std::string(argv[i]).substr(2)] = argv[i + 1];
  auto get = [&](const std::string& k, const std::string& d) {
    auto it = args.find(k);
    return it == args.end() ? d : it->second;
  };
  const std::string model =
      get("model", std::string(STEMMA_SOURCE_DIR) + "/models/stemma-faq.gguf");
  const float temperature = std::stof(get("temperature", "0.7"));
  const int seeds = std::stoi(get("seeds", "2"));
  const int32_t max_tokens = std::stoi(get("max-tokens", "384"));
  const int threads = std::stoi(get("threads", "2"));
  const size_t stride = static_cast<size_t>(std::max(1, std::stoi(get("stride", "1"))));

  stemma::EngineOptions eo;
  eo.model_path = model;
  eo.threads = threads;
  eo.kv_memory_bytes = int64_t{768} << 20;
  auto engine = stemma::Engine::open(eo);
  if (!engine.ok()) {
    std::cerr << engine.status().to_string() << "\n";
    return 1;
  }
  std::vector<std::string> files;
  const std::string dir = std::string(STEMMA_FIXTURES_DIR) + "/constrain/schemas";
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<const stemma::constrain::CompiledConstraint>> cs;
  for (size_t i = 0; i < files.size(); i += stride) {
    auto c = stemma::internal::compile_json_schema(**engine, read_file(files[i]));
    if (!c.ok()) {
      std::cerr << files[i] << ": " << c.status().to_string() << "\n";
      return 1;
    }
    cs.push_back(*c);
  }
  const stemma::Tokenizer* tok = stemma::internal::tokenizer(**engine);
  const std::vector<int32_t> prompt =
      tok->encode("<|im_start|>user\nReply with JSON only.<|im_end|>\n<|im_start|>assistant\n");
  // Warm the mask caches once so both timed modes see cached masks.
  (void)run_mode(**engine, cs, prompt, true, 1, temperature, 32);
  ModeResult on = run_mode(**engine, cs, prompt, true, seeds, temperature, max_tokens);
  ModeResult off = run_mode(**engine, cs, prompt, false, seeds, temperature, max_tokens);

  int64_t both = 0, tokens_on = 0, forced_on = 0, steps_on = 0, steps_off = 0, complete_on = 0,
          complete_off = 0;
  for (size_t i = 0; i < on.runs.size(); ++i) {
    const bool done_on = on.runs[i].finish == stemma::FinishReason::kStopToken;
    const bool done_off = off.runs[i].finish == stemma::FinishReason::kStopToken;
    complete_on += done_on;
    complete_off += done_off;
    if (!done_on || !done_off) continue;
    ++both;
    tokens_on += on.runs[i].tokens;
    forced_on += on.runs[i].forced;
    steps_on += on.runs[i].tokens - on.runs[i].forced;
    steps_off += off.runs[i].tokens;
  }
  std::cout << "schemas " << cs.size() << ", requests per mode " << on.runs.size()
            << " (temperature " << temperature << ", max_tokens " << max_tokens << ")\n"
            << "complete: " << complete_on << " with jump-forward, " << complete_off << " without\n"
            << "over the " << both << " complete in both modes:\n"
            << "  model steps (sampled tokens): " << steps_on << " with jump-forward, " << steps_off
            << " without: "
            << 100.0 * (1.0 - static_cast<double>(steps_on) / std::max<int64_t>(1, steps_off))
            << "% saved\n"
            << "  output tokens appended without a model step: " << forced_on << " of " << tokens_on
            << " (" << 100.0 * forced_on / std::max<int64_t>(1, tokens_on) << "%)\n"
            << "wall time: " << on.seconds << " s with jump-forward (" << on.engine_steps
            << " engine steps), " << off.seconds << " s without (" << off.engine_steps
            << " engine steps)\n";
  return 0;
}
