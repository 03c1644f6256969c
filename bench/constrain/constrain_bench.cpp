// Constrained-decoding benchmark (1 CPU thread):
//   - schema compile time (JSON Schema -> regex -> minimal DFA, or -> grammar for schemas with
//     $ref cycles) over the fixture schemas; grammar vs the older unrolled DFA;
//   - per-token mask time on real vocabularies (Llama 3 128k, Qwen 152k), driving the
//     automaton with valid instances: cold (first request: masks computed on first visit)
//     and warm (a later request with the same schema: masks cached per state);
//   - model steps saved by jump-forward when writing those instances;
//   - the same mask times for recursive schemas (pushdown masks) on their deep instances.
// Usage: constrain_bench [--vocab NAME]... [--instances N] [--json OUT]
// Tokenization: the model's own BPE (engine/tokenizer, loaded from the same tokenizer.json);
// --longest-match uses the greedy stand-in (longest_match_encoder.h) instead.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/constraint_state.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/jump_forward.h"
#include "engine/constrain/longest_match_encoder.h"
#include "engine/constrain/vocab_loader.h"
#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"

namespace sc = stemma::constrain;
using Clock = std::chrono::steady_clock;

namespace {

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> vocabs;
  size_t max_instances = 150;
  std::string json_out;
  bool longest_match = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--longest-match") longest_match = true;
    if (a == "--vocab" && i + 1 < argc) vocabs.push_back(argv[++i]);
    if (a == "--instances" && i + 1 < argc) max_instances = std::stoul(argv[++i]);
    if (a == "--json" && i + 1 < argc) json_out = argv[++i];
  }
  if (vocabs.empty()) vocabs = {"llama3", "qwen2"};
  const std::string fixtures = std::string(STEMMA_FIXTURES_DIR) + "/constrain";
  nlohmann::json report;

  // ---- compile times
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(fixtures + "/schemas")) {
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& e : std::filesystem::directory_iterator(fixtures + "/schemas/recursive")) {
    files.push_back("recursive/" + e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> schema_of;
  std::vector<double> compile_ms, realistic_ms;
  std::vector<int32_t> states;
  // Recursive schemas: the grammar, and the older unrolled DFA (max_recursion_depth 3).
  std::vector<double> grammar_ms, unrolled_ms;
  std::vector<int32_t> grammar_states, unrolled_states;
  nlohmann::json per_grammar = nlohmann::json::array();
  // JSON Schema -> regex (or grammar) -> minimal DFA(s): best of 3 (the machine is shared).
  auto compile = [](const std::string& text, sc::JsonRecursion mode, double* ms, int32_t* n,
                    bool* grammar) {
    *ms = 1e18;
    sc::JsonSchemaOptions o;
    o.recursion = mode;
    for (int rep = 0; rep < 3; ++rep) {
      auto t0 = Clock::now();
      auto r = sc::json_schema_to_regex(text, o);
      if (!r.ok() || !r->ok()) return false;
      *grammar = r->is_grammar();
      if (r->is_grammar()) {
        sc::GrammarSource src;
        src.root = r->regex;
        for (const auto& rule : r->rules) src.rules.push_back(rule.regex);
        auto g = sc::compile_grammar(src);
        if (!g.ok()) return false;
        *n = g->total_states();
      } else {
        auto dfa = sc::compile_regex(r->regex);
        if (!dfa.ok()) return false;
        *n = dfa->num_states();
      }
      *ms = std::min(*ms, us_since(t0) / 1000.0);
    }
    return true;
  };
  for (const std::string& f : files) {
    std::string text = read_file(fixtures + "/schemas/" + f);
    double ms = 0;
    int32_t n = 0;
    bool grammar = false;
    if (!compile(text, sc::JsonRecursion::kGrammar, &ms, &n, &grammar)) {
      std::cerr << "skip " << f << "\n";
      continue;
    }
    schema_of[f] = text;
    if (f.rfind("recursive/", 0) != 0) {
      compile_ms.push_back(ms);
      states.push_back(n);
      if (f.find("random") == std::string::npos) realistic_ms.push_back(ms);
    }
    if (!grammar) continue;
    double ums = 0;
    int32_t un = 0;
    bool ug = false;
    compile(text, sc::JsonRecursion::kUnroll, &ums, &un, &ug);
    grammar_ms.push_back(ms);
    grammar_states.push_back(n);
    unrolled_ms.push_back(ums);
    unrolled_states.push_back(un);
    per_grammar.push_back({{"schema", f},
                           {"grammar_ms", ms},
                           {"grammar_states", n},
                           {"unrolled_ms", ums},
                           {"unrolled_states", un}});
  }
  report["compile"] = {
      {"schemas", compile_ms.size()},
      {"median_ms", percentile(compile_ms, 0.5)},
      {"p90_ms", percentile(compile_ms, 0.9)},
      {"max_ms", percentile(compile_ms, 1.0)},
      {"realistic_median_ms", percentile(realistic_ms, 0.5)},
      {"under_50ms_fraction",
       static_cast<double>(
           std::count_if(compile_ms.begin(), compile_ms.end(), [](double x) { return x < 50; })) /
           static_cast<double>(compile_ms.size())},
      {"median_states", percentile(std::vector<double>(states.begin(), states.end()), 0.5)}};
  std::cout << "compile: " << report["compile"].dump() << std::endl;
  auto as_double = [](const std::vector<int32_t>& v) {
    return std::vector<double>(v.begin(), v.end());
  };
  report["compile_recursive"] = {
      {"schemas", grammar_ms.size()},
      {"grammar_median_ms", percentile(grammar_ms, 0.5)},
      {"grammar_max_ms", percentile(grammar_ms, 1.0)},
      {"grammar_median_states", percentile(as_double(grammar_states), 0.5)},
      {"grammar_max_states", percentile(as_double(grammar_states), 1.0)},
      {"unrolled_median_ms", percentile(unrolled_ms, 0.5)},
      {"unrolled_max_ms", percentile(unrolled_ms, 1.0)},
      {"unrolled_median_states", percentile(as_double(unrolled_states), 0.5)},
      {"unrolled_max_states", percentile(as_double(unrolled_states), 1.0)},
      {"per_schema", per_grammar}};
  std::cout << "compile_recursive: " << report["compile_recursive"].dump() << std::endl;

  // ---- instances
  std::vector<std::pair<std::string, std::string>> instances;
  {
    std::ifstream in(fixtures + "/instances.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      std::string f = j["schema"];
      if (schema_of.count(f)) instances.push_back({f, j["text"]});
    }
  }
  std::vector<std::pair<std::string, std::string>> deep;
  {
    std::ifstream in(fixtures + "/deep_instances.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      std::string f = j["schema"];
      if (schema_of.count(f)) deep.push_back({f, j["text"]});
    }
  }
  // An even spread over the fixture set.
  std::vector<std::pair<std::string, std::string>> picked;
  size_t stride = std::max<size_t>(1, instances.size() / max_instances);
  for (size_t i = 0; i < instances.size() && picked.size() < max_instances; i += stride) {
    picked.push_back(instances[i]);
  }

  for (const std::string& name : vocabs) {
    std::string path = std::string(STEMMA_ASSETS_DIR) + "/tokenizers/" + name + "/tokenizer.json";
    if (!std::filesystem::exists(path)) {
      std::cerr << "no " << path << " (run scripts/setup.d/21-constrain-vocabs.sh)\n";
      continue;
    }
    auto vocab = sc::load_vocabulary_from_tokenizer_json(path);
    if (!vocab.ok()) {
      std::cerr << vocab.status().to_string() << "\n";
      return 1;
    }
    auto index = sc::TokenIndex::build(std::move(*vocab)).value();
    sc::LongestMatchEncoder greedy(index);
    std::unique_ptr<stemma::Tokenizer> bpe;
    if (!longest_match) {
      auto spec = stemma::load_hf_tokenizer(path);
      if (!spec.ok()) {
        std::cerr << spec.status().to_string() << "\n";
        return 1;
      }
      auto tok = stemma::Tokenizer::create(std::move(*spec));
      if (!tok.ok()) {
        std::cerr << tok.status().to_string() << "\n";
        return 1;
      }
      bpe = std::move(*tok);
    }
    stemma::EncodeOptions plain;
    plain.add_special = false;
    plain.parse_special = false;
    auto encode = [&](std::string_view t) {
      return bpe ? bpe->encode(t, plain) : greedy.encode(t);
    };
    sc::TokenizerView view{encode, &index->vocab().tokens};
    std::map<std::string, std::shared_ptr<const sc::CompiledConstraint>> constraints;
    std::vector<double> cold_us, warm_us, miss_us;
    int64_t plain_steps = 0, jf_steps = 0, jumps = 0, appended = 0, rolled_back = 0;
    int64_t real_plain = 0, real_jf = 0;  // the hand-written real-world schemas only
    sc::TokenMask mask(index->size());
    for (const auto& [file, text] : picked) {
      auto& c = constraints[file];
      if (!c) c = sc::CompiledConstraint::from_json_schema(schema_of[file], index).value();
      std::vector<int32_t> ids = encode(text);
      for (int pass = 0; pass < 2; ++pass) {
        sc::ConstraintState st(c);
        for (int32_t id : ids) {
          size_t before = c->cached_masks();
          auto t0 = Clock::now();
          st.allowed_tokens(&mask);  // what the sampler does each step
          double us = us_since(t0);
          bool miss = c->cached_masks() != before;
          (pass == 0 ? cold_us : warm_us).push_back(us);
          if (miss) miss_us.push_back(us);
          if (!mask.test(id) || !st.accept_token(id).ok()) {
            std::cerr << "BUG: " << file << " rejects its instance\n";
            return 1;
          }
        }
      }
      // Jump-forward: the "model" writes the instance; forced runs are appended without steps.
      plain_steps += static_cast<int64_t>(ids.size());
      int64_t jf_steps_here = 0;
      sc::ConstraintState st(c);
      std::vector<int32_t> out;
      sc::JumpForwardStats stats;
      size_t pos = 0;
      // The "model" follows the instance's own tokenization; it re-encodes the rest of the text
      // after a jump (at a character boundary), else keeps consuming the tokens it planned.
      std::vector<int32_t> pending;
      size_t pending_at = 0, pending_pos = std::string::npos;
      while (true) {
        auto plan = sc::jump_forward(&st, &out, view, &stats);
        if (!plan.ok()) {
          std::cerr << plan.status().to_string() << "\n";
          return 1;
        }
        pos += plan->forced.size();
        if (pos >= text.size()) break;
        int32_t tok;
        if (pending_pos == pos && pending_at < pending.size()) {
          tok = pending[pending_at++];
        } else if ((static_cast<uint8_t>(text[pos]) & 0xC0) != 0x80) {
          pending = encode(std::string_view(text).substr(pos));
          pending_at = 0;
          tok = pending.empty() ? -1 : pending[pending_at++];
        } else {  // mid-character after a jump: one byte token
          std::vector<int32_t> one = greedy.encode(std::string_view(text).substr(pos, 1));
          tok = one.empty() ? -1 : one[0];
        }
        if (tok < 0 || !st.accept_token(tok).ok()) {
          std::cerr << "BUG: jump-forward run diverged in " << file << "\n";
          return 1;
        }
        out.push_back(tok);
        pos += index->vocab().tokens[tok].size();
        pending_pos = pos;
        ++jf_steps;
        ++jf_steps_here;
      }
      if (file.find("random") == std::string::npos) {
        real_plain += static_cast<int64_t>(ids.size());
        real_jf += static_cast<int64_t>(jf_steps_here);
      }
      jumps += stats.jumps;
      appended += stats.tokens_appended;
      rolled_back += stats.tokens_rolled_back;
    }
    size_t total_masks = 0;
    for (auto& [f, c] : constraints) total_masks += c->cached_masks();
    nlohmann::json r = {
        {"vocab_size", index->size()},
        {"tokenizer", bpe ? "bpe" : "longest-match"},
        {"instances", picked.size()},
        {"mask_us_warm_median", percentile(warm_us, 0.5)},
        {"mask_us_warm_p90", percentile(warm_us, 0.9)},
        {"mask_us_cold_median", percentile(cold_us, 0.5)},
        {"mask_us_cold_p90", percentile(cold_us, 0.9)},
        {"mask_us_first_compute_median", percentile(miss_us, 0.5)},
        {"mask_us_first_compute_max", percentile(miss_us, 1.0)},
        {"cache_miss_fraction_cold", static_cast<double>(miss_us.size()) /
                                         static_cast<double>(std::max<size_t>(1, cold_us.size()))},
        {"masks_cached", total_masks},
        {"steps_without_jump_forward", plain_steps},
        {"steps_with_jump_forward", jf_steps},
        {"steps_saved_fraction", 1.0 - static_cast<double>(jf_steps) /
                                           static_cast<double>(std::max<int64_t>(1, plain_steps))},
        {"realistic_steps_without_jump_forward", real_plain},
        {"realistic_steps_with_jump_forward", real_jf},
        {"realistic_steps_saved_fraction",
         1.0 -
             static_cast<double>(real_jf) / static_cast<double>(std::max<int64_t>(1, real_plain))},
        {"jumps", jumps},
        {"tokens_appended_by_jumps", appended},
        {"tokens_rolled_back", rolled_back}};
    // Recursive schemas (grammar, pushdown masks) on their deep instances: per-token mask time
    // for the first request (frame classes computed on first visit) and a second one.
    std::map<std::string, std::shared_ptr<const sc::CompiledConstraint>> grammars;
    std::vector<double> g_cold, g_warm, g_miss;
    int64_t g_tokens = 0, g_plain = 0, g_jf = 0, max_depth = 0;
    for (const auto& [file, text] : deep) {
      auto& c = grammars[file];
      if (!c) c = sc::CompiledConstraint::from_json_schema(schema_of[file], index).value();
      std::vector<int32_t> ids = encode(text);
      for (int pass = 0; pass < 2; ++pass) {
        sc::ConstraintState st(c);
        for (int32_t id : ids) {
          size_t before = c->cached_masks();
          auto t0 = Clock::now();
          st.allowed_tokens(&mask);
          double us = us_since(t0);
          (pass == 0 ? g_cold : g_warm).push_back(us);
          if (c->cached_masks() != before) g_miss.push_back(us);
          if (!mask.test(id) || !st.accept_token(id).ok()) {
            std::cerr << "BUG: " << file << " rejects its deep instance\n";
            return 1;
          }
          max_depth = std::max<int64_t>(max_depth, st.stack_depth());
        }
      }
      g_tokens += static_cast<int64_t>(ids.size());
      // Model steps with jump-forward: the forced runs (exact through pops) need no step.
      sc::ConstraintState st(c);
      std::vector<int32_t> out;
      sc::JumpForwardStats stats;
      size_t pos = 0;
      int64_t steps = 0;
      while (pos < text.size()) {
        auto plan = sc::jump_forward(&st, &out, view, &stats);
        if (!plan.ok()) {
          std::cerr << plan.status().to_string() << "\n";
          return 1;
        }
        pos = 0;
        for (int32_t t : out) pos += index->vocab().tokens[t].size();
        if (pos >= text.size()) break;
        // The "model" writes the first token of the rest of the text (as the tokenizer spells
        // it; at a character boundary, else one byte).
        std::vector<int32_t> rest = (static_cast<uint8_t>(text[pos]) & 0xC0) != 0x80
                                        ? encode(std::string_view(text).substr(pos))
                                        : greedy.encode(std::string_view(text).substr(pos, 1));
        if (rest.empty() || !st.accept_token(rest[0]).ok()) {
          std::cerr << "BUG: jump-forward run diverged in " << file << "\n";
          return 1;
        }
        out.push_back(rest[0]);
        ++steps;
      }
      g_plain += static_cast<int64_t>(ids.size());
      g_jf += steps;
    }
    size_t classes = 0;
    for (auto& [f, c] : grammars) classes += c->cached_masks();
    r["recursive"] = {
        {"schemas", grammars.size()},
        {"deep_instances", deep.size()},
        {"tokens", g_tokens},
        {"max_stack_depth_seen", max_depth},
        {"mask_us_cold_median", percentile(g_cold, 0.5)},
        {"mask_us_cold_p90", percentile(g_cold, 0.9)},
        {"mask_us_cold_max", percentile(g_cold, 1.0)},
        {"mask_us_warm_median", percentile(g_warm, 0.5)},
        {"mask_us_warm_p90", percentile(g_warm, 0.9)},
        {"mask_us_warm_max", percentile(g_warm, 1.0)},
        {"first_frame_class_us_median", percentile(g_miss, 0.5)},
        {"first_frame_class_us_max", percentile(g_miss, 1.0)},
        {"cache_miss_fraction_cold", static_cast<double>(g_miss.size()) /
                                         static_cast<double>(std::max<size_t>(1, g_cold.size()))},
        {"frame_classes_cached", classes},
        {"steps_without_jump_forward", g_plain},
        {"steps_with_jump_forward", g_jf},
    };
    report[name] = r;
    std::cout << name << ": " << r.dump() << std::endl;
  }
  if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
  return 0;
}
