// `stemma constrain-check --schema FILE | --regex R [--vocab-json tokenizer.json |
//                                                    --vocab-model model.gguf|hf-dir]`:
// compiles a JSON Schema (or regex) the way constrained decoding would and reports what came
// out: whether it compiled, automaton size, keywords it cannot enforce, compile time, and (with
// a vocabulary) how long token masks take and how many tokens they allow.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/json_text.h"
#include "engine/common/read_file.h"
#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/vocab_loader.h"
#include "engine/model/model_loader.h"

namespace stemma::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int run_constrain_check(const Args& args) {
  namespace sc = stemma::constrain;
  nlohmann::json out;
  std::string regex;
  sc::JsonSchemaOptions options;
  auto ws = args.get_int("whitespace", 0);
  auto depth = args.get_int("max-recursion", options.max_recursion_depth);
  if (!ws.ok()) return fail(ws.status());
  if (!depth.ok()) return fail(depth.status());
  if (*ws < 0 || *ws > 16) return fail(InvalidArgument("--whitespace must be in [0, 16]"));
  if (*depth < 0 || *depth > 16) return fail(InvalidArgument("--max-recursion must be in [0, 16]"));
  options.whitespace = static_cast<int>(*ws);
  options.max_recursion_depth = static_cast<int>(*depth);
  options.recursion = sc::JsonRecursion::kUnroll;  // this command reports one DFA

  auto t0 = Clock::now();
  if (args.has("schema")) {
    std::string path = *args.get("schema");
    auto text = read_file_bounded(path);
    if (!text.ok()) return fail(text.status().with_context("--schema"));
    auto r = sc::json_schema_to_regex(*text, options);
    if (!r.ok()) return fail(r.status().with_context(path));
    out["schema"] = path;
    out["unsupported"] = r->unsupported;
    out["notes"] = r->notes;
    if (!r->ok()) {
      out["compiled"] = false;
      out["error"] = r->status().to_string();
      std::cout << json_text(out, 2) << "\n";
      return 1;
    }
    regex = r->regex;
  } else if (args.has("regex")) {
    regex = *args.get("regex");
    out["regex"] = regex;
  } else {
    return fail(InvalidArgument("give --schema FILE or --regex PATTERN"));
  }
  auto dfa = sc::compile_regex(regex);
  double compile_ms = ms_since(t0);
  if (!dfa.ok()) {
    out["compiled"] = false;
    out["error"] = dfa.status().to_string();
    std::cout << json_text(out, 2) << "\n";
    return 1;
  }
  out["compiled"] = true;
  out["states"] = dfa->num_states();
  out["byte_classes"] = dfa->num_classes;
  out["regex_chars"] = regex.size();
  out["compile_ms"] = compile_ms;
  if (args.has("print-regex")) out["compiled_regex"] = regex;

  if (args.has("vocab-json") || args.has("vocab-model")) {
    auto t1 = Clock::now();
    std::string vocab_path;
    Result<sc::Vocabulary> vocab = InvalidArgument("no vocabulary");
    if (args.has("vocab-json")) {
      vocab_path = *args.get("vocab-json");
      vocab = sc::load_vocabulary_from_tokenizer_json(vocab_path);
    } else {
      vocab_path = *args.get("vocab-model");
      auto model = load_model(vocab_path);
      if (!model.ok()) return fail(model.status());
      if (!model->tokenizer) {
        return fail(NotFound("model has no tokenizer: " + vocab_path));
      }
      vocab = sc::vocabulary_from_tokenizer_spec(*model->tokenizer);
    }
    if (!vocab.ok()) return fail(vocab.status());
    auto index = sc::TokenIndex::build(std::move(*vocab));
    if (!index.ok()) return fail(index.status());
    double vocab_ms = ms_since(t1);
    sc::CompiledConstraint constraint(std::move(*dfa), *index);
    // Masks for states in breadth-first order from the start (up to --mask-states).
    auto limit = args.get_int("mask-states", 200);
    if (!limit.ok()) return fail(limit.status());
    const sc::Dfa& d = constraint.dfa();
    std::vector<int32_t> order{d.start};
    std::vector<uint8_t> seen(d.num_states(), 0);
    seen[d.start] = 1;
    for (size_t i = 0; i < order.size() && static_cast<int64_t>(order.size()) < *limit; ++i) {
      for (int b = 0; b < 256; ++b) {
        int32_t t = d.step(order[i], static_cast<uint8_t>(b));
        if (t >= 0 && !seen[t] && static_cast<int64_t>(order.size()) < *limit) {
          seen[t] = 1;
          order.push_back(t);
        }
      }
    }
    std::vector<double> us;
    double allowed_sum = 0;
    for (int32_t s : order) {
      auto t2 = Clock::now();
      const sc::TokenMask& m = constraint.mask(s);
      us.push_back(ms_since(t2) * 1000.0);
      allowed_sum += m.count();
    }
    std::sort(us.begin(), us.end());
    // A cached lookup, as every later step in the same state costs.
    auto t3 = Clock::now();
    for (int rep = 0; rep < 1000; ++rep) (void)constraint.mask(order[rep % order.size()]);
    double cached_us = ms_since(t3) * 1000.0 / 1000.0;
    out["vocab"] = {{"path", vocab_path},
                    {"size", (*index)->size()},
                    {"trie_nodes", (*index)->nodes().size()},
                    {"load_ms", vocab_ms}};
    out["mask_stats"] = {{"states_measured", us.size()},
                         {"first_compute_us_median", us[us.size() / 2]},
                         {"first_compute_us_max", us.back()},
                         {"cached_lookup_us", cached_us},
                         {"allowed_tokens_mean", allowed_sum / static_cast<double>(us.size())}};
  }
  std::cout << json_text(out, 2) << "\n";
  return 0;
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterConstrainCheck, "constrain-check",
                   "compile a JSON Schema or regex for constrained decoding; report states, "
                   "unsupported keywords, compile and mask times",
                   &run_constrain_check, {"print-regex"},
                   {"mask-states", "max-recursion", "regex", "schema", "vocab-json", "vocab-model",
                    "whitespace"});

}  // namespace stemma::cli
