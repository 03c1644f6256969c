// Constrained-decoding benchmark (1 CPU thread):
//   - schema compile time (JSON Schema -> regex -> minimal DFA) over the fixture schemas;
//   - per-token mask time on real vocabularies (Llama 3 128k, Qwen 152k), driving the
//     automaton with valid instances: cold (first request: masks computed on first visit)
//     and warm (a later request with the same schema: masks cached per state);
//   - model steps saved by jump-forward when writing those instances.
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
    files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> regex_of;
  std::vector<double> compile_ms, realistic_ms;
  std::vector<int32_t> states;
  for (const std::string& f : files) {
    std::string text = read_file(fixtures + "/schemas/" + f);
    double best = 1e18;
    int32_t n = 0;
    for (int rep = 0; rep < 3; ++rep) {  // best of 3: the machine is shared
      auto t0 = Clock::now();
      auto r = sc::json_schema_to_regex(text);
      if (!r.ok() || !r->ok()) break;
      auto dfa = sc::compile_regex(r->regex);
      if (!dfa.ok()) break;
      best = std::min(best, us_since(t0) / 1000.0);
      n = dfa->num_states();
      regex_of[f] = r->regex;
    }
    if (!regex_of.count(f)) {
      std::cerr << "skip " << f << "\n";
      continue;
    }
    compile_ms.push_back(best);
    states.push_back(n);
    if (f.find("random") == std::string::npos) realistic_ms.push_back(best);
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

  // ---- instances
  std::vector<std::pair<std::string, std::string>> instances;
  {
    std::ifstream in(fixtures + "/instances.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      std::string f = j["schema"];
      if (regex_of.count(f)) instances.push_back({f, j["text"]});
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
      if (!c) c = sc::CompiledConstraint::from_regex(regex_of[file], index).value();
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
         1.0 - static_cast<double>(real_jf) / static_cast<double>(std::max<int64_t>(1, real_plain))},
        {"jumps", jumps},
        {"tokens_appended_by_jumps", appended},
        {"tokens_rolled_back", rolled_back}};
    report[name] = r;
    std::cout << name << ": " << r.dump() << std::endl;
  }
  if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
  return 0;
}
