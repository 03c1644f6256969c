// Paths of the FAQ bot's data, model and references in the source tree.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace faqbot_test {

inline std::string src(const std::string& rel) {
  return std::string(STEMMA_SOURCE_DIR) + "/" + rel;
}
inline const std::string kFaq = src("demos/faq-bot/data/faq.json");
inline const std::string kEval = src("demos/faq-bot/data/eval.json");
inline const std::string kEvalPrompts = src("demos/faq-bot/data/eval_prompts.jsonl");
inline const std::string kModel = src("models/stemma-faq.gguf");
// eval.json: 150 FAQ questions, 40 out-of-scope, 20 tool requests, 100 fresh-phrasing questions.
inline constexpr size_t kEvalItems = 310;
inline const std::string kHfGreedy =
    std::string(STEMMA_FIXTURES_DIR) + "/faq-model/hf_greedy_q8_0_weights.jsonl";
// The eval prompts kHfGreedy was computed on (eval_prompts.jsonl as it was then, before the
// retriever's ranking changed): tests that compare with HF's replies, or with behaviour measured
// on the shipped model, read these prompts.
inline const std::string kHfGreedyPrompts =
    std::string(STEMMA_FIXTURES_DIR) + "/faq-model/hf_greedy_prompts.jsonl";

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace faqbot_test
