// bench_workloads [--config HF_CONFIG.json] [--type q8_0] [--requests N] [--threads T]
//                 [--repeats R] [--workload NAME]
// Runs the SGLang paper's workloads (few-shot, multi-turn, tree-of-thought, ReAct, RAG, JSON)
// through the Engine on seeded random weights at the config's shapes (default:
// configs/small-llama.json), radix cache on vs off, and prints one JSON document: throughput,
// latency, hit rate vs the best possible hit rate for the request order, on/off ratio.
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "bench/workloads/workload_report.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"

namespace {

int usage_error(const std::string& what) {
  std::cerr << "bench_workloads: " << what << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace stemma;
  std::string config_path = std::string(STEMMA_WORKLOADS_DIR) + "/configs/small-llama.json";
  std::string type_name = "q8_0";
  std::string only;
  int requests = 48;
  int threads = 0;
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage_error("missing value after " + a);
    std::string v = argv[++i];
    try {
      if (a == "--config")
        config_path = v;
      else if (a == "--type")
        type_name = v;
      else if (a == "--workload")
        only = v;
      else if (a == "--requests")
        requests = std::stoi(v);
      else if (a == "--threads")
        threads = std::stoi(v);
      else if (a == "--repeats")
        repeats = std::stoi(v);
      else
        return usage_error("unknown option " + a);
    } catch (const std::exception&) {
      return usage_error("bad number for " + a + ": " + v);
    }
  }
  std::ifstream in(config_path);
  if (!in) return usage_error("cannot read " + config_path);
  std::stringstream text;
  text << in.rdbuf();
  auto config = parse_hf_config(text.str(), config_path);
  if (!config.ok()) return usage_error(config.status().to_string());
  auto type = dtype_from_name(type_name);
  if (!type) return usage_error("unknown --type " + type_name);
  auto model = make_dummy_model(*config, *type, 1);
  if (!model.ok()) return usage_error(model.status().to_string());
  auto shared = std::make_shared<const LoadedModel>(std::move(model).value());

  nlohmann::json results = nlohmann::json::array();
  for (const auto& name : bench::workload_names()) {
    if (!only.empty() && name != only) continue;
    auto w = bench::make_workload(name, requests, shared->config.vocab_size, 1);
    if (!w.ok()) return usage_error(w.status().to_string());
    EngineOptions opts;
    opts.threads = threads;
    auto entry = bench::compare_cache_on_off(opts, {.model = shared}, *w, 64, repeats);
    if (!entry.ok()) return usage_error(entry.status().to_string());
    std::cerr << name << ": hit " << (*entry)["hit_rate"] << " best " << (*entry)["best_hit_rate"]
              << " on/off " << (*entry)["throughput_ratio_on_off"] << "\n";
    results.push_back(*entry);
  }
  nlohmann::json j;
  j["config"] = config_path;
  j["type"] = type_name;
  j["requests"] = requests;
  j["threads"] = threads;
  j["repeats"] = repeats;
  j["results"] = results;
  std::cout << j.dump(2) << "\n";
  return 0;
}
