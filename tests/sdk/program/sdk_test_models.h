// Engines the SDK tests run on: the shipped FAQ model (models/stemma-faq.gguf, CPU, fast), and
// seeded random weights at the same shape with the same tokenizer and chat template (whatever
// such a model writes, constrained output must still parse).
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/api/engine.h"
#include "engine/engine_internal.h"
#include "engine/model/model_loader.h"
#include "sdk/program/runtime.h"

namespace stemma::sdktest {

inline std::string source_path(const std::string& rel) {
  return std::string(STEMMA_SOURCE_DIR) + "/" + rel;
}
inline const std::string kFaqModel = source_path("models/stemma-faq.gguf");
inline const std::string kEvalPrompts = source_path("demos/faq-bot/data/eval_prompts.jsonl");
// The eval prompts the HF references and the model's measured behaviour are for (the eval
// prompts before the retriever's ranking changed; tests/fixtures/faq-model).
inline const std::string kHfGreedyPrompts =
    source_path("tests/fixtures/faq-model/hf_greedy_prompts.jsonl");
inline const std::string kEval = source_path("demos/faq-bot/data/eval.json");
inline const std::string kFaqData = source_path("demos/faq-bot/data/faq.json");

struct TestEngine {
  std::unique_ptr<Engine> engine;
  std::shared_ptr<program::Runtime> runtime;  // destroyed before the engine
};

struct TestEngineOptions {
  bool radix_cache = true;
  int64_t kv_memory_bytes = int64_t{64} << 20;
  // Two backend threads, so the suites also exercise the thread pool under concurrent engines.
  int32_t threads = 2;
  bool random_weights = false;  // seeded random weights at the FAQ model's shape
  uint64_t seed = 1;
};

inline Result<TestEngine> open_test_engine(const TestEngineOptions& o = {}) {
  STEMMA_ASSIGN_OR_RETURN(LoadedModel loaded, load_model(kFaqModel));
  if (o.random_weights) {
    STEMMA_ASSIGN_OR_RETURN(LoadedModel dummy,
                            make_dummy_model(loaded.config, DType::kQ8_0, o.seed));
    dummy.tokenizer = loaded.tokenizer;
    loaded = std::move(dummy);
  }
  EngineOptions eo;
  eo.threads = o.threads;
  eo.kv_memory_bytes = o.kv_memory_bytes;
  eo.radix_cache = o.radix_cache;
  TestEngine t;
  STEMMA_ASSIGN_OR_RETURN(
      t.engine,
      internal::open_engine(std::move(eo),
                            {.model = std::make_shared<const LoadedModel>(std::move(loaded))}));
  STEMMA_ASSIGN_OR_RETURN(t.runtime, program::Runtime::create(*t.engine));
  return t;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

// Splits a ChatML-style prompt ("<|im_start|>role\ncontent<|im_end|>\n"... then an optional
// "<|im_start|>assistant\n") into its messages; `generation_prompt` says whether it ends with
// the open assistant turn.
inline std::vector<program::Message> split_chatml(const std::string& prompt,
                                                  bool* generation_prompt = nullptr) {
  const std::string open = "<|im_start|>", close = "<|im_end|>\n";
  std::vector<program::Message> out;
  size_t pos = 0;
  if (generation_prompt) *generation_prompt = false;
  while (pos < prompt.size()) {
    if (prompt.compare(pos, open.size(), open) != 0) break;
    const size_t nl = prompt.find('\n', pos);
    const std::string role = prompt.substr(pos + open.size(), nl - pos - open.size());
    const size_t end = prompt.find(close, nl + 1);
    if (end == std::string::npos) {
      if (generation_prompt) *generation_prompt = nl + 1 == prompt.size();
      break;
    }
    out.push_back({role, prompt.substr(nl + 1, end - nl - 1)});
    pos = end + close.size();
  }
  return out;
}

}  // namespace stemma::sdktest
