// What the model fuzz targets do with a file that loaded: build its tokenizer and encode a
// little text, bind the weights to the CPU backend and run one decode step. A file that loads
// must never crash anything after loading either.
#pragma once

#include <memory>
#include <vector>

#include "engine/backend/cpu/cpu_executor.h"
#include "engine/model/model_loader.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::fuzz {

inline void exercise_model(LoadedModel loaded) {
  if (loaded.tokenizer) {
    auto tok = Tokenizer::create(*loaded.tokenizer);
    if (tok.ok()) {
      const std::vector<int32_t> ids = (*tok)->encode("Hello, world! \xC3\xA9t\xC3\xA9 123");
      (void)(*tok)->decode(ids);
    }
  }
  auto model = std::make_shared<const LoadedModel>(std::move(loaded));
  KvCacheShape kv;
  kv.page_size = 4;
  kv.num_pages = 2;
  auto ex = cpu::CpuExecutor::create(model, kv, 1);
  if (!ex.ok()) return;
  const std::vector<int32_t> tokens = {model->config.vocab_size > 1 ? 1 : 0, 0};
  const std::vector<int32_t> pages = {0};
  SequenceStep step;
  step.tokens = tokens;
  step.pages = pages;
  std::vector<float> logits;
  (void)(*ex)->forward(std::span<const SequenceStep>(&step, 1), logits);
}

}  // namespace stemma::fuzz
