#include "engine/sample/logits_stages.h"

#include <unordered_set>

namespace stemma {

Status LogitBiasStage::apply(const StageInput&, std::span<float> logits) {
  for (const auto& [token, bias] : bias_) {
    if (token >= 0 && static_cast<size_t>(token) < logits.size()) logits[token] += bias;
  }
  return OkStatus();
}

Status PenaltiesStage::apply(const StageInput& in, std::span<float> logits) {
  for (; counted_ < in.generated.size(); ++counted_) ++counts_[in.generated[counted_]];
  if (repetition_ != 1.0f) {
    std::unordered_set<int32_t> seen(in.prompt.begin(), in.prompt.end());
    for (const auto& [token, count] : counts_) seen.insert(token);
    for (int32_t token : seen) {
      if (token < 0 || static_cast<size_t>(token) >= logits.size()) continue;
      float& v = logits[token];
      v = v > 0.0f ? v / repetition_ : v * repetition_;
    }
  }
  if (frequency_ != 0.0f || presence_ != 0.0f) {
    for (const auto& [token, count] : counts_) {
      if (token < 0 || static_cast<size_t>(token) >= logits.size()) continue;
      logits[token] -= frequency_ * static_cast<float>(count) + presence_;
    }
  }
  return OkStatus();
}

Status HookStage::apply(const StageInput& in, std::span<float> logits) {
  return hook_->process(in.generated, logits).with_context("logits processor");
}

Status ConstraintMaskStage::apply(const StageInput& in, std::span<float> logits) {
  if (in.mask != nullptr) {
    in.mask->apply_to_logits(logits.data(), static_cast<int32_t>(logits.size()));
  }
  return OkStatus();
}

}  // namespace stemma
