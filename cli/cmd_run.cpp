// `stemma run --model PATH | --dummy CONFIG.json [--type f32] (--prompt-tokens 1,2,3 | --prompt
// TEXT)
//            [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--seed S]
//            [--repetition-penalty R] [--frequency-penalty F] [--presence-penalty P]
//            [--stop-tokens 2,3] [--ignore-eos] [--logprobs] [--threads T] [--page-size P]
//            [--kv-pages N]`
// Generates through the Engine and prints JSON: the generated token ids, why it stopped, and
// (when the model carries a tokenizer) the prompt encoded from --prompt and the decoded text.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "engine/engine.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::cli {
namespace {

Result<LoadedModel> open_run_model(const Args& args) {
  if (auto path = args.get("model")) return load_model(*path);
  auto cfg_path = args.get("dummy");
  if (!cfg_path) return InvalidArgument("run: give --model PATH or --dummy CONFIG.json");
  std::ifstream in(*cfg_path);
  if (!in) return IoError("cannot read " + *cfg_path);
  std::stringstream text;
  text << in.rdbuf();
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, parse_hf_config(text.str(), *cfg_path));
  auto type = dtype_from_name(args.get_or("type", "f32"));
  if (!type)
    return InvalidArgument("--type: unknown weight type '" + args.get_or("type", "") + "'");
  STEMMA_ASSIGN_OR_RETURN(int64_t seed, args.get_int("weights-seed", 1));
  return make_dummy_model(config, *type, static_cast<uint64_t>(seed));
}

Result<SamplingOptions> sampling_from_args(const Args& args) {
  SamplingOptions s;
  STEMMA_ASSIGN_OR_RETURN(int64_t max_tokens, args.get_int("max-tokens", 16));
  STEMMA_ASSIGN_OR_RETURN(double temperature, args.get_double("temperature", 0.0));
  STEMMA_ASSIGN_OR_RETURN(int64_t top_k, args.get_int("top-k", 0));
  STEMMA_ASSIGN_OR_RETURN(double top_p, args.get_double("top-p", 1.0));
  STEMMA_ASSIGN_OR_RETURN(double min_p, args.get_double("min-p", 0.0));
  STEMMA_ASSIGN_OR_RETURN(int64_t seed, args.get_int("seed", 0));
  STEMMA_ASSIGN_OR_RETURN(double rep, args.get_double("repetition-penalty", 1.0));
  STEMMA_ASSIGN_OR_RETURN(double freq, args.get_double("frequency-penalty", 0.0));
  STEMMA_ASSIGN_OR_RETURN(double pres, args.get_double("presence-penalty", 0.0));
  s.max_tokens = static_cast<int32_t>(std::clamp<int64_t>(max_tokens, -1, 1 << 30));
  s.temperature = static_cast<float>(temperature);
  s.top_k = static_cast<int32_t>(std::clamp<int64_t>(top_k, -1, 1 << 30));
  s.top_p = static_cast<float>(top_p);
  s.min_p = static_cast<float>(min_p);
  s.seed = static_cast<uint64_t>(seed);
  s.repetition_penalty = static_cast<float>(rep);
  s.frequency_penalty = static_cast<float>(freq);
  s.presence_penalty = static_cast<float>(pres);
  s.ignore_eos = args.has("ignore-eos");
  s.logprobs = args.has("logprobs");
  if (auto stops = args.get("stop-tokens")) {
    STEMMA_ASSIGN_OR_RETURN(s.stop_token_ids, Args::parse_int_list(*stops));
  }
  return s;
}

int run_run(const Args& args) {
  try {
    auto sampling = sampling_from_args(args);
    if (!sampling.ok()) return fail(sampling.status());
    auto threads = args.get_int("threads", 0);
    auto page_size = args.get_int("page-size", 16);
    auto kv_pages = args.get_int("kv-pages", 0);
    for (const auto* r : {&threads, &page_size, &kv_pages}) {
      if (!r->ok()) return fail(r->status());
    }
    auto loaded = open_run_model(args);
    if (!loaded.ok()) return fail(loaded.status());
    auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());

    // Text in and out needs the model's tokenizer (GGUF files carry one). Token ids always work.
    std::unique_ptr<Tokenizer> tokenizer;
    if (model->tokenizer) {
      auto t = Tokenizer::create(*model->tokenizer);
      if (t.ok()) tokenizer = std::move(t).value();
    }
    std::vector<int32_t> prompt;
    if (auto ids = args.get("prompt-tokens")) {
      auto parsed = Args::parse_int_list(*ids);
      if (!parsed.ok()) return fail(parsed.status().with_context("--prompt-tokens"));
      prompt = std::move(parsed).value();
    } else if (auto text = args.get("prompt")) {
      if (!tokenizer) {
        return fail(
            Unsupported("--prompt needs a tokenizer and this model has none; use "
                        "--prompt-tokens"));
      }
      prompt = tokenizer->encode(*text);
    } else {
      return fail(InvalidArgument("run: give --prompt-tokens 1,2,3 or --prompt TEXT"));
    }

    EngineOptions opts;
    opts.model = model;
    opts.threads = static_cast<int32_t>(*threads);
    opts.page_size = static_cast<int32_t>(*page_size);
    opts.num_pages = static_cast<int32_t>(*kv_pages);
    if (opts.num_pages == 0) opts.kv_memory_bytes = int64_t{256} << 20;
    auto engine = Engine::open(opts);
    if (!engine.ok()) return fail(engine.status());
    auto out = (*engine)->generate(prompt, *sampling);
    if (!out.ok()) return fail(out.status());
    if (out->finish == FinishReason::kError) return fail(Internal(out->error));

    nlohmann::json j;
    j["prompt_tokens"] = prompt;
    j["tokens"] = out->tokens;
    j["finish_reason"] = finish_reason_name(out->finish);
    if (sampling->logprobs) j["logprobs"] = out->logprobs;
    if (tokenizer) {
      auto text = tokenizer->decode(out->tokens);
      if (text.ok()) j["text"] = *text;
    }
    auto st = (*engine)->stats();
    j["stats"] = {{"prefill_tokens", st.prefill_tokens},
                  {"generated_tokens", st.generated_tokens},
                  {"steps", st.steps}};
    std::cout << j.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(std::string("run: ") + e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterRun, "run", "generate tokens through the engine (JSON out)", &run_run,
                   {"ignore-eos", "logprobs"});

}  // namespace stemma::cli
