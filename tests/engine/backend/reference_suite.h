// The HF reference suite (tests/fixtures/reference, docs/model.md): seeded random-weight models
// at real head dims, GQA ratios, rope types and biases, with HF transformers' float64 logits at
// sampled positions of one 4000-token prompt. Shared by the CPU and GPU backends' tests: both
// regenerate each model bit for bit (make_dummy_model with DummyInit::kReference), write it as
// the HF folder HF read (export_hf_folder), load it as a user would (load_model) and compare.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/hf_config.h"
#include "engine/model/hf_export.h"
#include "engine/model/model_loader.h"

namespace stemma::testing {

struct ReferenceVariant {
  std::string model;   // suite name, e.g. "llama3-gqa8-hd64"
  std::string dtype;   // "f32" or "bf16"
  std::string config;  // the HF config.json text
  uint64_t seed = 0;
  std::vector<float> rows;  // positions.size() x vocab, HF float64 rounded to float32
  double max_abs_logit = 0;
  std::vector<int32_t> greedy;  // after the first greedy_prefix prompt tokens
  std::vector<double> greedy_margins;
};

struct ReferenceSuite {
  int64_t vocab = 0;
  std::vector<int32_t> prompt;     // prompt_length tokens
  std::vector<int64_t> positions;  // rows of every variant
  int64_t greedy_prefix = 0;
  std::vector<ReferenceVariant> variants;

  const float* row(const ReferenceVariant& v, size_t i) const {
    return v.rows.data() + i * static_cast<size_t>(vocab);
  }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The suite's prompt: splitmix64 from `seed`, token = (x >> 33) % vocab (as the Python maker).
inline std::vector<int32_t> reference_prompt(uint64_t seed, int64_t n, int64_t vocab) {
  std::vector<int32_t> out;
  uint64_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    out.push_back(static_cast<int32_t>((z >> 33) % static_cast<uint64_t>(vocab)));
  }
  return out;
}

// Reads suite.json + references.json + the row files. An empty `variants` with a message in
// `error` when something is missing.
inline ReferenceSuite load_reference_suite(const std::string& dir, std::string* error) {
  ReferenceSuite suite;
  const auto suite_json = nlohmann::json::parse(read_text(dir + "/suite.json"), nullptr, false);
  const auto refs = nlohmann::json::parse(read_text(dir + "/references.json"), nullptr, false);
  if (suite_json.is_discarded() || refs.is_discarded()) {
    *error = "cannot read " + dir + "/suite.json or references.json";
    return suite;
  }
  suite.vocab = suite_json["vocab_size"].get<int64_t>();
  suite.prompt = reference_prompt(suite_json["prompt_seed"].get<uint64_t>(),
                                  suite_json["prompt_length"].get<int64_t>(), suite.vocab);
  suite.positions = suite_json["positions"].get<std::vector<int64_t>>();
  suite.greedy_prefix = suite_json["greedy_prefix"].get<int64_t>();
  for (const auto& m : suite_json["models"]) {
    const std::string name = m["name"].get<std::string>();
    if (!refs["models"].contains(name)) {
      *error = "references.json has no model " + name;
      return suite;
    }
    for (const auto& [dtype, r] : refs["models"][name].items()) {
      ReferenceVariant v;
      v.model = name;
      v.dtype = dtype;
      v.config = m["config"].dump(1);
      v.seed = m["seed"].get<uint64_t>();
      v.max_abs_logit = r["max_abs_logit"].get<double>();
      v.greedy = r["greedy"].get<std::vector<int32_t>>();
      v.greedy_margins = r["greedy_margins"].get<std::vector<double>>();
      const std::string bytes = read_text(dir + "/" + r["file"].get<std::string>());
      const size_t want = suite.positions.size() * static_cast<size_t>(suite.vocab) * 4;
      if (bytes.size() != want) {
        *error = r["file"].get<std::string>() + " holds " + std::to_string(bytes.size()) +
                 " bytes, expected " + std::to_string(want);
        return suite;
      }
      v.rows.resize(want / 4);
      std::memcpy(v.rows.data(), bytes.data(), want);
      suite.variants.push_back(std::move(v));
    }
  }
  return suite;
}

// Writes the variant's model as the HF folder HF read and loads it back through load_model.
inline Result<LoadedModel> load_reference_model(const ReferenceVariant& v,
                                                const std::string& work_dir) {
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, parse_hf_config(v.config, v.model));
  STEMMA_ASSIGN_OR_RETURN(LoadedModel generated,
                          make_dummy_model(config, DType::kF32, v.seed, DummyInit::kReference));
  const std::string dir = work_dir + "/" + v.model + "-" + v.dtype;
  STEMMA_RETURN_IF_ERROR(
      export_hf_folder(generated, dir, v.dtype == "bf16" ? DType::kBF16 : DType::kF32, v.config));
  return load_model(dir);
}

// Longest prompt the tests run: 4000 (the suite's), or STEMMA_REFERENCE_MAX_PROMPT (the
// sanitizer build sets 1000: its attention is ten times slower).
inline int64_t reference_max_prompt(const ReferenceSuite& s) {
  int64_t n = static_cast<int64_t>(s.prompt.size());
  if (const char* e = std::getenv("STEMMA_REFERENCE_MAX_PROMPT"))
    n = std::min<int64_t>(n, std::atoll(e));
  return n;
}

// max |a - b| over one row, and whether the argmaxes agree. They may differ only where HF's top
// two are within `tie`, or within twice the row's own max |difference| (errors of that size can
// swap two logits that close: the choice is then not determined by the tolerance).
struct RowDiff {
  double max_abs = 0;
  bool argmax_agrees = true;
};
inline RowDiff compare_row(const float* got, const float* want, int64_t n, double tie) {
  RowDiff d;
  int64_t ga = 0, wa = 0;
  for (int64_t i = 0; i < n; ++i) {
    d.max_abs = std::max(d.max_abs, std::fabs(static_cast<double>(got[i]) - want[i]));
    if (got[i] > got[ga]) ga = i;
    if (want[i] > want[wa]) wa = i;
  }
  const double window = std::max(tie, 2 * d.max_abs);
  d.argmax_agrees = ga == wa || static_cast<double>(want[wa]) - want[ga] <= window;
  return d;
}

// log p(token | row) in double.
inline double log_softmax_at(const float* row, int64_t n, int32_t token) {
  double mx = row[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, static_cast<double>(row[i]));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
  return static_cast<double>(row[token]) - mx - std::log(sum);
}

}  // namespace stemma::testing
