#include "engine/backend/cpu/greedy.h"

#include <algorithm>
#include <string>

namespace stemma::cpu {

int32_t argmax(std::span<const float> values) {
  size_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

float top2_margin(std::span<const float> values) {
  if (values.size() < 2) return 0.0f;
  float first = std::max(values[0], values[1]), second = std::min(values[0], values[1]);
  for (size_t i = 2; i < values.size(); ++i) {
    if (values[i] > first) {
      second = first;
      first = values[i];
    } else if (values[i] > second) {
      second = values[i];
    }
  }
  return first - second;
}

Result<GreedyResult> greedy_generate(ModelExecutor& executor, std::span<const int32_t> prompt,
                                     int num_new, int prefill_chunk, bool keep_prompt_logits) {
  if (prompt.empty()) return InvalidArgument("greedy_generate: empty prompt");
  const KvCacheShape& kv = executor.kv_shape();
  const int64_t total = static_cast<int64_t>(prompt.size()) + num_new;
  const int64_t pages_needed = (total + kv.page_size - 1) / kv.page_size;
  if (pages_needed > kv.num_pages) {
    return ResourceExhausted("greedy_generate: " + std::to_string(total) + " positions need " +
                             std::to_string(pages_needed) + " pages, the pool has " +
                             std::to_string(kv.num_pages));
  }
  std::vector<int32_t> pages(static_cast<size_t>(pages_needed));
  for (size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<int32_t>(i);
  const int64_t vocab = executor.config().vocab_size;

  GreedyResult out;
  std::vector<float> logits;
  const int64_t n = static_cast<int64_t>(prompt.size());
  const int64_t chunk = prefill_chunk <= 0 ? n : prefill_chunk;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    SequenceStep step;
    step.tokens = prompt.subspan(static_cast<size_t>(start), static_cast<size_t>(len));
    step.past_len = static_cast<int32_t>(start);
    step.pages = pages;
    step.all_logits = keep_prompt_logits;
    logits.clear();
    STEMMA_RETURN_IF_ERROR(executor.forward(std::span<const SequenceStep>(&step, 1), logits));
    if (keep_prompt_logits)
      out.prompt_logits.insert(out.prompt_logits.end(), logits.begin(), logits.end());
  }
  std::span<const float> row = std::span<const float>(logits).last(static_cast<size_t>(vocab));
  int32_t next = argmax(row);
  for (int i = 0; i < num_new; ++i) {
    out.tokens.push_back(next);
    out.margins.push_back(top2_margin(row));
    if (i + 1 == num_new) break;
    SequenceStep step;
    step.tokens = std::span<const int32_t>(&out.tokens.back(), 1);
    step.past_len = static_cast<int32_t>(n + i);
    step.pages = pages;
    logits.clear();
    STEMMA_RETURN_IF_ERROR(executor.forward(std::span<const SequenceStep>(&step, 1), logits));
    row = logits;
    next = argmax(row);
  }
  return out;
}

}  // namespace stemma::cpu
