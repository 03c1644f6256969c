// `stemma bench-workload --model PATH | --dummy CONFIG.json [--type q8_0] --workload NAME|all
//                       [--requests N] [--parallel P] [--threads T] [--page-size P]
//                       [--kv-pages N] [--seed S] [--repeats R]`
// Runs one of the SGLang paper's workloads (bench/workloads/workloads.h) through the Engine with
// the radix cache on and then off, on the same weights, and prints JSON: throughput, latency,
// cache hit rate, the best hit rate possible for that request order, and the on/off ratio.
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench/workloads/workload_report.h"
#include "cli/args.h"
#include "cli/backend_args.h"
#include "cli/json_text.h"
#include "engine/api/engine.h"
#include "engine/common/read_file.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"

namespace stemma::cli {
namespace {

Result<LoadedModel> open_bench_model(const Args& args) {
  if (auto path = args.get("model")) return load_model(*path);
  auto cfg_path = args.get("dummy");
  if (!cfg_path) return InvalidArgument("bench-workload: give --model PATH or --dummy CONFIG.json");
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_file_bounded(*cfg_path));
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, parse_hf_config(text, *cfg_path));
  auto type = dtype_from_name(args.get_or("type", "q8_0"));
  if (!type)
    return InvalidArgument("--type: unknown weight type '" + args.get_or("type", "") + "'");
  return make_dummy_model(config, *type, 1);
}

int run_bench_workload(const Args& args) {
  try {
    auto requests = args.get_int("requests", 64);
    auto parallel = args.get_int("parallel", 64);
    auto threads = args.get_int("threads", 0);
    auto page_size = args.get_int("page-size", 16);
    auto kv_pages = args.get_int("kv-pages", 0);
    auto seed = args.get_int("seed", 1);
    auto repeats = args.get_int("repeats", 1);
    for (const auto* r : {&requests, &parallel, &threads, &page_size, &kv_pages, &seed, &repeats}) {
      if (!r->ok()) return fail(r->status());
    }
    if (*requests < 1 || *parallel < 1 || *repeats < 1) {
      return fail(
          InvalidArgument("bench-workload: --requests, --parallel and --repeats must be >= 1"));
    }
    auto name = args.require("workload");
    if (!name.ok()) return fail(name.status());
    std::vector<std::string> names =
        *name == "all" ? bench::workload_names() : std::vector<std::string>{*name};
    auto loaded = open_bench_model(args);
    if (!loaded.ok()) return fail(loaded.status());
    auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());

    nlohmann::json results = nlohmann::json::array();
    for (const auto& n : names) {
      auto w = bench::make_workload(n, static_cast<int32_t>(*requests), model->config.vocab_size,
                                    static_cast<uint64_t>(*seed));
      if (!w.ok()) return fail(w.status());
      EngineOptions opts;
      opts.threads = static_cast<int32_t>(*threads);
      opts.page_size = static_cast<int32_t>(*page_size);
      opts.num_pages = static_cast<int32_t>(*kv_pages);
      if (Status st = apply_backend_args(args, &opts); !st.ok()) return fail(st);
      auto entry =
          bench::compare_cache_on_off(opts, {.model = model}, *w, static_cast<int32_t>(*parallel),
                                      static_cast<int32_t>(*repeats));
      if (!entry.ok()) return fail(entry.status());
      results.push_back(*entry);
    }
    nlohmann::json j;
    j["model"] = args.get_or("model", args.get_or("dummy", ""));
    j["vocab_size"] = model->config.vocab_size;
    j["layers"] = model->config.num_layers;
    j["hidden_size"] = model->config.hidden_size;
    j["requests"] = *requests;
    j["parallel"] = *parallel;
    j["threads"] = *threads;
    j["page_size"] = *page_size;
    j["repeats"] = *repeats;
    j["results"] = results;
    std::cout << json_text(j, 2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(std::string("bench-workload: ") + e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterBenchWorkload, "bench-workload",
                   "SGLang-style workloads, radix cache on vs off (JSON out)", &run_bench_workload,
                   {kBackendFlag},
                   with_backend_options({"dummy", "kv-pages", "model", "page-size", "parallel",
                                         "repeats", "requests", "seed", "threads", "type",
                                         "workload"}));

}  // namespace stemma::cli
