// `stemma bench-workload --model PATH | --dummy CONFIG.json [--type q8_0] --workload NAME|all
//                       [--requests N] [--parallel P] [--threads T] [--page-size P]
//                       [--kv-pages N] [--seed S] [--repeats R]
//                       [--max-running N] [--max-batch-tokens N] [--prefill-chunk N]
//                       [--variants full,baseline_attention,no_radix]`
// Runs one of the SGLang paper's workloads (bench/workloads/workloads.h) through the Engine with
// the radix cache on and then off, on the same weights, and prints JSON: throughput, latency,
// cache hit rate, the best hit rate possible for that request order, and the on/off ratio.
//
// `--workload generated_shared_prefix [--groups 64] [--per-group 16] [--system-len 2048]
// [--question-len 128] [--output-len 256]` is SGLang's shared-prefix serving workload, all
// requests submitted at once; with `--variants` the engine configurations of
// bench/workloads/workload_report.h are compared instead of cache on/off (TPOT, output tokens/s,
// leaked pages). `--dump-prompts FILE` writes its prompts as JSON ({"prompts": [[ids]...],
// "output_len": N}) for a peer engine (bench/gpu/hf_generate_peer.py) and exits.
#include <fstream>
#include <iostream>
#include <sstream>

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

Result<bench::SharedPrefixSpec> shared_prefix_spec(const Args& args) {
  bench::SharedPrefixSpec spec;
  const std::pair<const char*, int32_t*> fields[] = {{"groups", &spec.groups},
                                                     {"per-group", &spec.per_group},
                                                     {"system-len", &spec.system_len},
                                                     {"question-len", &spec.question_len},
                                                     {"output-len", &spec.output_len}};
  for (const auto& [key, field] : fields) {
    STEMMA_ASSIGN_OR_RETURN(int64_t v, args.get_int(key, *field));
    if (v < 1 || v > (int64_t{1} << 20)) {
      return InvalidArgument(std::string("--") + key + " " + std::to_string(v) +
                             ": must be in [1, 1048576]");
    }
    *field = static_cast<int32_t>(v);
  }
  return spec;
}

Result<std::vector<std::string>> variant_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    EngineOptions probe;
    STEMMA_RETURN_IF_ERROR(bench::apply_engine_variant(item, &probe));
    out.push_back(item);
  }
  if (out.empty()) return InvalidArgument("--variants: give at least one variant");
  return out;
}

Status dump_prompts(const bench::Workload& w, const std::string& path) {
  nlohmann::json prompts = nlohmann::json::array();
  int32_t output_len = 0;
  for (const auto& script : w.scripts) {
    for (const auto& call : script.calls) {
      if (call.parent >= 0) return InvalidArgument("--dump-prompts: workload has dependent calls");
      prompts.push_back(call.append);
      output_len = call.max_tokens;
    }
  }
  std::ofstream out(path, std::ios::binary);
  out << json_text(nlohmann::json{{"prompts", prompts}, {"output_len", output_len}}, -1) << "\n";
  out.close();
  if (!out) return InvalidArgument("--dump-prompts: cannot write '" + path + "'");
  return OkStatus();
}

Status apply_scheduler_args(const Args& args, EngineOptions* opts) {
  const std::pair<const char*, int32_t*> fields[] = {{"max-running", &opts->max_running},
                                                     {"max-batch-tokens", &opts->max_batch_tokens},
                                                     {"prefill-chunk", &opts->prefill_chunk}};
  for (const auto& [key, field] : fields) {
    STEMMA_ASSIGN_OR_RETURN(int64_t v, args.get_int(key, *field));
    if (v < 1 || v > (int64_t{1} << 24)) {
      return InvalidArgument(std::string("--") + key + " " + std::to_string(v) +
                             ": must be in [1, 16777216]");
    }
    *field = static_cast<int32_t>(v);
  }
  return OkStatus();
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
    const bool shared_prefix = *name == "generated_shared_prefix";
    auto spec = shared_prefix_spec(args);
    if (!spec.ok()) return fail(spec.status());
    std::vector<std::string> variants;
    if (auto v = args.get("variants")) {
      auto list = variant_list(*v);
      if (!list.ok()) return fail(list.status());
      variants = *list;
    }
    auto loaded = open_bench_model(args);
    if (!loaded.ok()) return fail(loaded.status());
    auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());

    nlohmann::json results = nlohmann::json::array();
    for (const auto& n : names) {
      auto w = shared_prefix
                   ? bench::make_shared_prefix_workload(*spec, model->config.vocab_size,
                                                        static_cast<uint64_t>(*seed))
                   : bench::make_workload(n, static_cast<int32_t>(*requests),
                                          model->config.vocab_size, static_cast<uint64_t>(*seed));
      if (!w.ok()) return fail(w.status());
      if (auto path = args.get("dump-prompts")) {
        Status st = dump_prompts(*w, *path);
        if (!st.ok()) return fail(st);
        continue;
      }
      EngineOptions opts;
      opts.threads = static_cast<int32_t>(*threads);
      opts.page_size = static_cast<int32_t>(*page_size);
      opts.num_pages = static_cast<int32_t>(*kv_pages);
      if (Status st = apply_backend_args(args, &opts); !st.ok()) return fail(st);
      if (Status st = apply_scheduler_args(args, &opts); !st.ok()) return fail(st);
      // All of a shared-prefix workload's requests are submitted at once.
      const int32_t in_flight = shared_prefix && !args.has("parallel")
                                    ? static_cast<int32_t>(w->scripts.size())
                                    : static_cast<int32_t>(*parallel);
      auto entry = variants.empty()
                       ? bench::compare_cache_on_off(opts, {.model = model}, *w, in_flight,
                                                     static_cast<int32_t>(*repeats))
                       : bench::compare_engine_variants(opts, {.model = model}, *w, variants,
                                                        in_flight, static_cast<int32_t>(*repeats));
      if (!entry.ok()) return fail(entry.status());
      results.push_back(*entry);
    }
    if (args.has("dump-prompts")) return 0;
    nlohmann::json j;
    j["model"] = args.get_or("model", args.get_or("dummy", ""));
    j["vocab_size"] = model->config.vocab_size;
    j["layers"] = model->config.num_layers;
    j["hidden_size"] = model->config.hidden_size;
    j["requests"] = *requests;
    if (shared_prefix && !args.has("parallel")) {
      j["parallel"] = "all";
    } else {
      j["parallel"] = *parallel;
    }
    j["threads"] = *threads;
    j["page_size"] = *page_size;
    j["repeats"] = *repeats;
    if (shared_prefix) {
      j["groups"] = spec->groups;
      j["per_group"] = spec->per_group;
      j["system_len"] = spec->system_len;
      j["question_len"] = spec->question_len;
      j["output_len"] = spec->output_len;
    }
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
                   with_backend_options({"dummy",        "dump-prompts",     "groups",
                                         "kv-pages",     "max-batch-tokens", "max-running",
                                         "model",        "output-len",       "page-size",
                                         "parallel",     "per-group",        "prefill-chunk",
                                         "question-len", "repeats",          "requests",
                                         "seed",         "system-len",       "threads",
                                         "type",         "variants",         "workload"}));

}  // namespace stemma::cli
