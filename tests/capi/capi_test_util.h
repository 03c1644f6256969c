// Shared pieces of the C ABI tests: paths, one engine per test process, owned C strings, and
// the demo model's reference data (eval prompts paired with HF transformers' greedy replies).
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capi/stemma.h"

namespace capi_test {

inline std::string src(const std::string& rel) {
  return std::string(STEMMA_SOURCE_DIR) + "/" + rel;
}
inline const std::string kModel = src("models/stemma-faq.gguf");

// A char* the library returned, freed with stemma_string_free.
struct CString {
  char* p = nullptr;
  ~CString() { stemma_string_free(p); }
  char** out() {
    stemma_string_free(p);
    p = nullptr;
    return &p;
  }
  std::string str() const { return p ? std::string(p) : std::string(); }
  nlohmann::json json() const { return nlohmann::json::parse(str()); }
};

inline std::string last_error() {
  return stemma_last_error();
}

// The engine all tests of one process share (opening costs ~0.5 s).
inline stemma_engine* engine() {
  static stemma_engine* e = [] {
    stemma_engine_options o;
    stemma_engine_options_init(&o);
    o.model_path = kModel.c_str();
    // One backend thread: ctest runs the suites side by side on small CI machines, where pool
    // workers would only compete for the cores.
    o.threads = 1;
    o.kv_memory_bytes = int64_t{128} << 20;
    stemma_engine* out = nullptr;
    const stemma_status s = stemma_engine_open(&o, &out);
    if (s != STEMMA_OK) FAIL("opening " << kModel << ": " << stemma_last_error());
    return out;
  }();
  return e;
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// An eval prompt of the demo model and the greedy reply HF transformers computed for it
// (tests/fixtures/faq-model/hf_greedy_q8_0_weights.jsonl, on the prompts of
// hf_greedy_prompts.jsonl; see docs/demo-model.md).
struct HfCase {
  std::string id, kind, prompt, output;
  std::vector<int32_t> output_ids;
};

// Every `stride`-th case (FAQ answers, out-of-scope questions and tool calls alike).
inline std::vector<HfCase> hf_cases(size_t stride) {
  std::map<std::string, std::string> prompts;
  for (const auto& j :
       read_jsonl(std::string(STEMMA_FIXTURES_DIR) + "/faq-model/hf_greedy_prompts.jsonl")) {
    prompts[j.at("id").get<std::string>()] = j.at("prompt").get<std::string>();
  }
  std::vector<HfCase> all;
  for (const auto& j :
       read_jsonl(std::string(STEMMA_FIXTURES_DIR) + "/faq-model/hf_greedy_q8_0_weights.jsonl")) {
    auto it = prompts.find(j.at("id").get<std::string>());
    if (it == prompts.end()) continue;
    all.push_back({j.at("id"), j.at("kind"), it->second, j.at("output"),
                   j.at("output_ids").get<std::vector<int32_t>>()});
  }
  std::vector<HfCase> out;
  for (size_t i = 0; i < all.size(); i += stride) out.push_back(all[i]);
  return out;
}

// The messages of a rendered prompt of the demo model's ChatML-like template
// ("<|im_start|>role\ncontent<|im_end|>\n" ..., then "<|im_start|>assistant\n").
inline nlohmann::json split_chatml(const std::string& prompt) {
  nlohmann::json messages = nlohmann::json::array();
  const std::string start = "<|im_start|>", end = "<|im_end|>\n";
  size_t pos = 0;
  while (true) {
    const size_t s = prompt.find(start, pos);
    const size_t e = prompt.find(end, s);
    if (s == std::string::npos || e == std::string::npos) break;
    const size_t nl = prompt.find('\n', s);
    messages.push_back({{"role", prompt.substr(s + start.size(), nl - s - start.size())},
                        {"content", prompt.substr(nl + 1, e - nl - 1)}});
    pos = e + end.size();
  }
  return messages;
}

// The system prompt the demo model was trained with (the first message of every eval prompt).
inline std::string faq_system_prompt() {
  return split_chatml(hf_cases(1).at(0).prompt).at(0).at("content").get<std::string>();
}

inline stemma_gen_options gen_options(int32_t max_tokens) {
  stemma_gen_options o;
  stemma_gen_options_init(&o);
  o.max_tokens = max_tokens;
  return o;
}

}  // namespace capi_test
