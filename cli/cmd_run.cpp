// `stemma run --model PATH | --dummy CONFIG.json [--type f32] (--prompt-tokens 1,2,3 | --prompt
// TEXT)
//            [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--seed S]
//            [--repetition-penalty R] [--frequency-penalty F] [--presence-penalty P]
//            [--stop-tokens 2,3] [--stop STRING] [--ignore-eos] [--logprobs] [--threads T]
//            [--page-size P] [--kv-pages N] [--prompt-logprobs-from I]
//            [--json-schema FILE [--whitespace K] | --regex R | --choices 'a|b|c'
//             [--choice-rule mean|total] [--choices-generate]] [--no-jump-forward]`
// Generates through the Engine and prints JSON: the generated token ids, why it stopped, and
// (when the model carries a tokenizer) the decoded text. --json-schema / --regex constrain the
// output (jump-forward on unless --no-jump-forward; the JSON reports the tokens it appended
// without model steps). --choices picks one of the strings by model likelihood (prompt
// logprobs of each choice, mean per token unless --choice-rule total), or with
// --choices-generate lets the model write one of them under a choice constraint.
#include <algorithm>
#include <iostream>
#include <limits>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/backend_args.h"
#include "cli/json_text.h"
#include "engine/api/constraint_text.h"
#include "engine/api/engine.h"
#include "engine/common/read_file.h"
#include "engine/engine_internal.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::cli {
namespace {

Result<LoadedModel> open_run_model(const Args& args) {
  if (auto path = args.get("model")) return load_model(*path);
  auto cfg_path = args.get("dummy");
  if (!cfg_path) return InvalidArgument("run: give --model PATH or --dummy CONFIG.json");
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_file_bounded(*cfg_path));
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, parse_hf_config(text, *cfg_path));
  auto type = dtype_from_name(args.get_or("type", "f32"));
  if (!type)
    return InvalidArgument("--type: unknown weight type '" + args.get_or("type", "") + "'");
  STEMMA_ASSIGN_OR_RETURN(int64_t seed, args.get_int("weights-seed", 1));
  return make_dummy_model(config, *type, static_cast<uint64_t>(seed));
}

Result<GenerationOptions> options_from_args(const Args& args) {
  GenerationOptions s;  // its defaults are the defaults of every flag below
  STEMMA_ASSIGN_OR_RETURN(int64_t max_tokens, args.get_int("max-tokens", s.max_tokens));
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
  s.jump_forward = !args.has("no-jump-forward");
  if (auto stop = args.get("stop")) s.stop_strings = {*stop};
  STEMMA_ASSIGN_OR_RETURN(int64_t plp, args.get_int("prompt-logprobs-from", -1));
  s.prompt_logprobs_from = static_cast<int32_t>(std::clamp<int64_t>(plp, -2, 1 << 30));
  if (auto stops = args.get("stop-tokens")) {
    STEMMA_ASSIGN_OR_RETURN(s.stop_token_ids, Args::parse_int_list(*stops));
  }
  return s;
}

// "a|b|c" -> {"a", "b", "c"}; a backslash makes the next character literal (a bar: "\\|").
Result<std::vector<std::string>> parse_choices(const std::string& text) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      out.back() += text[++i];
    } else if (text[i] == '|') {
      out.emplace_back();
    } else {
      out.back() += text[i];
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].empty())
      return InvalidArgument("--choices: choice " + std::to_string(i) + " is empty");
  }
  return out;
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
  return k;
}

// Select by likelihood: every choice is appended to the prompt and scored by the log-probs of
// its tokens (prompt logprobs, so one prefill each; the shared prompt comes from the cache).
// Where the tokenizer merges the prompt's end with a choice, scoring starts at the first token
// where any choice differs from the prompt, the same position for all.
Status run_select(Engine& engine, const std::vector<int32_t>& prompt,
                  const std::optional<std::string>& prompt_text,
                  const std::vector<std::string>& choices, ChoiceRule rule,
                  GenerationOptions sampling, nlohmann::json& j) {
  const Tokenizer* tok = internal::tokenizer(engine);
  if (tok == nullptr) return FailedPrecondition("--choices needs a tokenizer");
  std::vector<std::vector<int32_t>> full;
  size_t from = prompt.size();
  for (const std::string& c : choices) {
    std::vector<int32_t> ids;
    if (prompt_text) {
      ids = tok->encode(*prompt_text + c);
    } else {
      ids = prompt;
      auto more = tok->encode(c, EncodeOptions{.add_special = false});
      ids.insert(ids.end(), more.begin(), more.end());
    }
    if (ids.size() <= 1) return InvalidArgument("--choices: choice '" + c + "' has no tokens");
    const int64_t context = engine.model_info().max_position;
    if (context > 0 && static_cast<int64_t>(ids.size()) >= context) {
      return OutOfRange("--choices: the prompt with choice '" + c + "' has " +
                        std::to_string(ids.size()) + " tokens; the model's context holds " +
                        std::to_string(context));
    }
    from = std::min(from, common_prefix(ids, prompt));
    full.push_back(std::move(ids));
  }
  from = std::max<size_t>(from, 1);
  sampling.max_tokens = 1;
  sampling.prompt_logprobs_from = static_cast<int32_t>(from);
  std::vector<RequestId> ids;
  for (const auto& f : full) {
    STEMMA_ASSIGN_OR_RETURN(RequestId id, engine.submit(f, sampling));
    ids.push_back(id);
  }
  std::vector<std::vector<float>> logprobs;
  nlohmann::json per_choice = nlohmann::json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    STEMMA_ASSIGN_OR_RETURN(RequestOutput out, engine.wait(ids[i]));
    if (out.finish == FinishReason::kError) return out.error;
    logprobs.push_back(out.prompt_logprobs);
    per_choice.push_back(
        {{"choice", choices[i]},
         {"tokens",
          std::vector<int32_t>(full[i].begin() + static_cast<std::ptrdiff_t>(from), full[i].end())},
         {"token_logprobs", out.prompt_logprobs},
         {"cached_tokens", out.cached_tokens}});
  }
  STEMMA_ASSIGN_OR_RETURN(ChoiceScores scores, score_choices(logprobs, rule));
  for (size_t i = 0; i < scores.scores.size(); ++i) per_choice[i]["score"] = scores.scores[i];
  j["choice"] = choices[scores.best];
  j["choice_index"] = scores.best;
  j["choice_rule"] = rule == ChoiceRule::kMean ? "mean" : "total";
  j["choices"] = per_choice;
  j["text"] = choices[scores.best];
  return OkStatus();
}

int run_run(const Args& args) {
  try {
    auto sampling = options_from_args(args);
    if (!sampling.ok()) return fail(sampling.status());
    auto threads = args.get_int("threads", 0);
    auto page_size = args.get_int("page-size", 16);
    auto kv_pages = args.get_int("kv-pages", 0);
    for (const auto* r : {&threads, &page_size, &kv_pages}) {
      if (!r->ok()) return fail(r->status());
    }
    // Out of int32 range would be truncated on the way to the engine; a large value in range
    // is the engine's to judge (a KV cache past the machine's memory is RESOURCE_EXHAUSTED).
    constexpr int64_t kI32 = std::numeric_limits<int32_t>::max();
    if (*threads < 0 || *threads > kI32) return fail(InvalidArgument("--threads must be >= 0"));
    if (*page_size < 1 || *page_size > kI32) {
      return fail(InvalidArgument("--page-size must be in 1.." + std::to_string(kI32)));
    }
    if (*kv_pages < 0 || *kv_pages > kI32) {
      return fail(InvalidArgument("--kv-pages must be in 0.." + std::to_string(kI32)));
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

    // Prompt and output together must fit the model's context: Engine::submit refuses a
    // prompt that fills it (OUT_OF_RANGE) and caps max_tokens to what is left.
    EngineOptions opts;
    opts.threads = static_cast<int32_t>(*threads);
    opts.page_size = static_cast<int32_t>(*page_size);
    opts.num_pages = static_cast<int32_t>(*kv_pages);
    if (opts.num_pages == 0) opts.kv_memory_bytes = int64_t{256} << 20;
    EngineParts parts;
    parts.model = model;
    if (tokenizer) parts.tokenizer = std::shared_ptr<const Tokenizer>(std::move(tokenizer));
    if (Status st = apply_backend_args(args, &opts); !st.ok()) return fail(st);
    auto engine = internal::open_engine(opts, parts);
    if (!engine.ok()) return fail(engine.status());
    Engine& eng = **engine;

    nlohmann::json j;
    j["prompt_tokens"] = prompt;
    const int kinds = static_cast<int>(args.has("json-schema")) +
                      static_cast<int>(args.has("regex")) + static_cast<int>(args.has("choices"));
    if (kinds > 1) return fail(InvalidArgument("give one of --json-schema, --regex, --choices"));
    if (auto choice_text = args.get("choices"); choice_text && !args.has("choices-generate")) {
      auto choices = parse_choices(*choice_text);
      if (!choices.ok()) return fail(choices.status());
      const std::string rule_name = args.get_or("choice-rule", "mean");
      if (rule_name != "mean" && rule_name != "total") {
        return fail(InvalidArgument("--choice-rule must be mean or total, got " + rule_name));
      }
      const auto rule = rule_name == "mean" ? ChoiceRule::kMean : ChoiceRule::kTotal;
      Status st = run_select(eng, prompt, args.get("prompt"), *choices, rule, *sampling, j);
      if (!st.ok()) return fail(st);
      auto es = eng.stats();
      j["stats"] = {{"cached_tokens", es.cached_tokens},
                    {"prefill_tokens", es.prefill_tokens},
                    {"steps", es.steps}};
      std::cout << json_text(j, 2) << "\n";
      return 0;
    }
    if (auto path = args.get("json-schema")) {
      auto schema = read_file_bounded(*path);
      if (!schema.ok()) return fail(schema.status());
      constrain::JsonSchemaOptions jo;
      auto ws = args.get_int("whitespace", 0);
      if (!ws.ok()) return fail(ws.status());
      if (*ws < 0 || *ws > 16) return fail(InvalidArgument("--whitespace must be in [0, 16]"));
      jo.whitespace = static_cast<int>(*ws);
      // Compiled here only to report its size; submit finds it in the engine's cache.
      auto c = internal::compile_json_schema(eng, *schema, jo);
      if (!c.ok()) return fail(c.status().with_context(*path));
      sampling->json_schema = *schema;
      sampling->json_whitespace = jo.whitespace;
      j["constraint"] = {{"json_schema", *path}, {"dfa_states", (*c)->dfa().num_states()}};
    } else if (auto regex = args.get("regex")) {
      auto c = internal::compile_regex(eng, *regex);
      if (!c.ok()) return fail(c.status().with_context("--regex"));
      sampling->regex = *regex;
      j["constraint"] = {{"regex", *regex}, {"dfa_states", (*c)->dfa().num_states()}};
    } else if (auto choice_text = args.get("choices")) {
      auto choices = parse_choices(*choice_text);
      if (!choices.ok()) return fail(choices.status());
      auto c = internal::compile_choices(eng, *choices);
      if (!c.ok()) return fail(c.status().with_context("--choices"));
      sampling->choices = *choices;
      j["constraint"] = {{"choices", *choices}, {"dfa_states", (*c)->dfa().num_states()}};
    }
    if (j.contains("constraint")) j["constraint"]["jump_forward"] = sampling->jump_forward;

    auto out = eng.generate(prompt, *sampling);
    if (!out.ok()) return fail(out.status());
    if (out->finish == FinishReason::kError) return fail(out->error);
    j["tokens"] = out->tokens;
    j["finish_reason"] = finish_reason_name(out->finish);
    if (sampling->logprobs) j["logprobs"] = out->logprobs;
    if (sampling->prompt_logprobs_from >= 1) j["prompt_logprobs"] = out->prompt_logprobs;
    if (eng.text()) j["text"] = out->text;
    j["jump_forward_tokens"] = out->jump_forward_tokens;
    auto st = eng.stats();
    const int64_t out_tokens = st.generated_tokens + st.jump_forward_tokens;
    j["stats"] = {
        {"prefill_tokens", st.prefill_tokens},
        {"generated_tokens", st.generated_tokens},
        {"jump_forward_tokens", st.jump_forward_tokens},
        {"model_steps_saved", out_tokens == 0 ? 0.0
                                              : static_cast<double>(st.jump_forward_tokens) /
                                                    static_cast<double>(out_tokens)},
        {"steps", st.steps}};
    std::cout << json_text(j, 2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(std::string("run: ") + e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterRun, "run", "generate tokens through the engine (JSON out)", &run_run,
                   {"ignore-eos", "logprobs", "no-jump-forward", "choices-generate", kBackendFlag},
                   with_backend_options({"choice-rule",
                                         "choices",
                                         "dummy",
                                         "frequency-penalty",
                                         "json-schema",
                                         "kv-pages",
                                         "max-tokens",
                                         "min-p",
                                         "model",
                                         "page-size",
                                         "presence-penalty",
                                         "prompt",
                                         "prompt-logprobs-from",
                                         "prompt-tokens",
                                         "regex",
                                         "repetition-penalty",
                                         "seed",
                                         "stop",
                                         "stop-tokens",
                                         "temperature",
                                         "threads",
                                         "top-k",
                                         "top-p",
                                         "type",
                                         "weights-seed",
                                         "whitespace"}));

}  // namespace stemma::cli
