// The stages of the sampler chain that edit one request's logits row before a token is picked,
// in the spirit of llama.cpp's sampler chain. Sampler (sampler.h) runs the ones a request's
// options call for, in this order:
//   logit_bias -> penalties -> hook (tests' LogitsProcessor) -> constraint_mask
// then picks: greedy, or temperature -> top-k -> top-p -> min-p -> a seeded draw (one selection
// pass, sampling::sample_from, rather than four stages: it never sorts the vocabulary).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/api/status.h"
#include "engine/constrain/token_mask.h"
#include "engine/sample/logits_processor.h"

namespace stemma {

// What a stage may read besides the row.
struct StageInput {
  std::span<const int32_t> prompt;
  std::span<const int32_t> generated;          // the tokens generated so far (prompt excluded)
  const constrain::TokenMask* mask = nullptr;  // the constraint's allowed tokens now, or none
};

class LogitsStage {
 public:
  virtual ~LogitsStage() = default;
  virtual const char* name() const = 0;
  // Edits `logits` (vocab_size floats, the request's row) in place.
  virtual Status apply(const StageInput& in, std::span<float> logits) = 0;
};

// Adds a bias to the logits of the given tokens (ids out of range are skipped).
class LogitBiasStage : public LogitsStage {
 public:
  explicit LogitBiasStage(std::vector<std::pair<int32_t, float>> bias) : bias_(std::move(bias)) {}
  const char* name() const override { return "logit_bias"; }
  Status apply(const StageInput& in, std::span<float> logits) override;

 private:
  std::vector<std::pair<int32_t, float>> bias_;
};

// Repetition (CTRL/HF: divide positive logits, multiply negative ones, over prompt and generated
// tokens), frequency and presence (OpenAI: subtract per generated occurrence / once) penalties.
// Counts generated tokens incrementally (the generated tokens only grow between calls).
class PenaltiesStage : public LogitsStage {
 public:
  PenaltiesStage(float repetition, float frequency, float presence)
      : repetition_(repetition), frequency_(frequency), presence_(presence) {}
  const char* name() const override { return "penalties"; }
  Status apply(const StageInput& in, std::span<float> logits) override;

 private:
  float repetition_, frequency_, presence_;
  std::unordered_map<int32_t, int32_t> counts_;
  size_t counted_ = 0;
};

// A LogitsProcessor (SamplingOptions::logits_processor, a hook for tests and tools).
class HookStage : public LogitsStage {
 public:
  explicit HookStage(std::shared_ptr<LogitsProcessor> hook) : hook_(std::move(hook)) {}
  const char* name() const override { return "hook"; }
  Status apply(const StageInput& in, std::span<float> logits) override;

 private:
  std::shared_ptr<LogitsProcessor> hook_;
};

// Sets every token the constraint does not allow now to -infinity.
class ConstraintMaskStage : public LogitsStage {
 public:
  const char* name() const override { return "constraint_mask"; }
  Status apply(const StageInput& in, std::span<float> logits) override;
};

}  // namespace stemma
