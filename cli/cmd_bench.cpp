// `stemma bench --model PATH | --dummy CONFIG.json [--type q8_0] [--seed S] [--save-gguf FILE]
//               [--prompt N] [--gen M] [--threads T] [--repeats R]`
// Prefill and decode speed of the CPU backend: a prompt of N random token ids in one step, then M
// greedy decode steps, repeated R times after a warm-up; prints medians as JSON. --dummy builds
// seeded random weights at the shapes of an HF config.json; --save-gguf writes the model as GGUF
// (with a minimal tokenizer, so other engines load it) and benchmarks that file.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/backend_args.h"
#include "cli/json_text.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/common/read_file.h"
#if __has_include("engine/model/gguf_convert.h")
#include "engine/model/gguf_convert.h"
#define STEMMA_HAVE_GGUF_CONVERT 1
#endif
#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"

namespace stemma::cli {
namespace {

Result<DType> parse_type(const std::string& s) {
  const DType all[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,
                       DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};
  for (DType t : all) {
    if (s == dtype_name(t)) return t;
  }
  return InvalidArgument("--type: unknown weight type '" + s +
                         "' (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

Result<LoadedModel> open_model(const Args& args, DType type) {
  if (auto path = args.get("model")) return load_model(*path);
  auto cfg_path = args.get("dummy");
  if (!cfg_path) return InvalidArgument("bench: give --model PATH or --dummy CONFIG.json");
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_file_bounded(*cfg_path));
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, parse_hf_config(text, *cfg_path));
  auto seed = args.get_int("seed", 1);
  if (!seed.ok()) return seed.status();
  return make_dummy_model(config, type, static_cast<uint64_t>(*seed));
}

int run_bench(const Args& args) {
  try {
    auto type = parse_type(args.get_or("type", "q8_0"));
    if (!type.ok()) return fail(type.status());
    auto prompt = args.get_int("prompt", 128);
    auto gen = args.get_int("gen", 32);
    auto threads = args.get_int("threads", 0);
    auto repeats = args.get_int("repeats", 3);
    for (const auto* r : {&prompt, &gen, &threads, &repeats}) {
      if (!r->ok()) return fail(r->status());
    }
    if (*prompt < 1 || *gen < 1 || *repeats < 1) {
      return fail(InvalidArgument("bench: --prompt, --gen and --repeats must be >= 1"));
    }
    auto loaded = open_model(args, *type);
    if (!loaded.ok()) return fail(loaded.status());
    if (auto out = args.get("save-gguf")) {
#if !defined(STEMMA_HAVE_GGUF_CONVERT)
      return fail(Unsupported("--save-gguf: this build has no GGUF writer"));
#else
      ConvertOptions opts;
      opts.type = *type;
      opts.name = "stemma-bench";
      opts.tokenizer = placeholder_tokenizer(loaded->config.vocab_size);
      Status st = convert_to_gguf(*loaded, *out, opts);
      if (!st.ok()) return fail(st);
      loaded = load_model(*out);
      if (!loaded.ok()) return fail(loaded.status());
#endif
    }
    auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
    const ModelConfig& c = model->config;

    KvCacheShape kv;
    kv.page_size = 16;
    kv.num_pages = (*prompt + *gen + 15) / 16;
    auto ex_r = open_executor(args, model, kv, static_cast<int>(*threads));
    if (!ex_r.ok()) return fail(ex_r.status());
    ModelExecutor& ex = **ex_r;
    // Where it ran: the CPU's threads and instruction set, or the GPU.
    nlohmann::json backend;
    if (auto* cpu_ex = dynamic_cast<cpu::CpuExecutor*>(&ex)) {
      backend = {{"name", "cpu"},
                 {"threads", cpu_ex->num_threads()},
                 {"isa", cpu::isa_name(cpu_ex->isa())}};
    } else {
      auto gpu = cuda_device_name(static_cast<int>(args.get_int("device", 0).value()));
      backend = {{"name", "cuda"}, {"device", gpu.ok() ? *gpu : std::string("?")}};
    }

    std::mt19937 rng(7);
    std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(c.vocab_size - 1));
    std::vector<int32_t> tokens(static_cast<size_t>(*prompt));
    for (auto& t : tokens) t = tok(rng);
    std::vector<int32_t> pages(static_cast<size_t>(kv.num_pages));
    for (size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<int32_t>(i);

    std::vector<double> prefill_tps, decode_tps;
    using clock = std::chrono::steady_clock;
    for (int64_t r = 0; r <= *repeats; ++r) {  // r == 0 is the warm-up (page faults, caches)
      std::vector<float> logits;
      SequenceStep step;
      step.tokens = tokens;
      step.pages = pages;
      const auto t0 = clock::now();
      Status st = ex.forward(std::span<const SequenceStep>(&step, 1), logits);
      if (!st.ok()) return fail(st);
      const auto t1 = clock::now();
      std::vector<int32_t> generated;
      for (int64_t i = 0; i < *gen; ++i) {
        generated.push_back(
            cpu::argmax(std::span<const float>(logits).last(static_cast<size_t>(c.vocab_size))));
        logits.clear();
        step.tokens = std::span<const int32_t>(&generated.back(), 1);
        step.past_len = static_cast<int32_t>(*prompt + i);
        st = ex.forward(std::span<const SequenceStep>(&step, 1), logits);
        if (!st.ok()) return fail(st);
      }
      const auto t2 = clock::now();
      if (r == 0) continue;
      prefill_tps.push_back(static_cast<double>(*prompt) /
                            std::chrono::duration<double>(t1 - t0).count());
      decode_tps.push_back(static_cast<double>(*gen) /
                           std::chrono::duration<double>(t2 - t1).count());
    }

    size_t weight_bytes = 0;
    int64_t params = 0;
    for (const auto& [name, t] : model->tensors) {
      weight_bytes += t.nbytes;
      params += t.num_elements();
    }
    nlohmann::json out = {{"model",
                           {{"source", model->source_path},
                            {"format", model->source_format},
                            {"arch", c.arch_name},
                            {"params", params},
                            {"weight_bytes", weight_bytes},
                            {"layers", c.num_layers},
                            {"hidden", c.hidden_size},
                            {"vocab", c.vocab_size}}},
                          {"weight_type", args.has("model") ? "as stored" : dtype_name(*type)},
                          {"backend", backend},
                          {"prompt", *prompt},
                          {"gen", *gen},
                          {"repeats", *repeats},
                          {"prefill_tok_s", median(prefill_tps)},
                          {"decode_tok_s", median(decode_tps)},
                          {"prefill_tok_s_runs", prefill_tps},
                          {"decode_tok_s_runs", decode_tps}};
    std::cout << json_text(out, 2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(std::string("bench: ") + e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterBench, "bench", "CPU prefill/decode tokens per second (JSON)",
                   &run_bench, {kBackendFlag},
                   with_backend_options({"dummy", "gen", "model", "prompt", "repeats", "save-gguf",
                                         "seed", "threads", "type"}));

}  // namespace stemma::cli
