#include "engine/backend/cpu/prompt_rows.h"

#include <algorithm>
#include <string>

namespace stemma::cpu {

Result<std::vector<float>> prompt_logits_rows(ModelExecutor& executor,
                                              std::span<const int32_t> prompt,
                                              std::span<const int64_t> positions) {
  if (prompt.empty()) return InvalidArgument("prompt_logits_rows: empty prompt");
  if (positions.empty()) return InvalidArgument("prompt_logits_rows: no positions");
  const int64_t n = static_cast<int64_t>(prompt.size());
  for (int64_t p : positions) {
    if (p < 0 || p >= n) {
      return OutOfRange("prompt_logits_rows: position " + std::to_string(p) +
                        " is outside the prompt of " + std::to_string(n) + " tokens");
    }
  }
  std::vector<int64_t> ends(positions.begin(), positions.end());
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());

  const KvCacheShape& kv = executor.kv_shape();
  const int64_t used = ends.back() + 1;
  const int64_t pages_needed = (used + kv.page_size - 1) / kv.page_size;
  if (pages_needed > kv.num_pages) {
    return ResourceExhausted("prompt_logits_rows: " + std::to_string(used) + " positions need " +
                             std::to_string(pages_needed) + " pages, the pool has " +
                             std::to_string(kv.num_pages));
  }
  std::vector<int32_t> pages(static_cast<size_t>(pages_needed));
  for (size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<int32_t>(i);

  // One chunk per chosen position, ending there: its last-token row is that position's row.
  std::vector<float> sorted_rows;
  int64_t start = 0;
  for (int64_t end : ends) {
    SequenceStep step;
    step.tokens = prompt.subspan(static_cast<size_t>(start), static_cast<size_t>(end + 1 - start));
    step.past_len = static_cast<int32_t>(start);
    step.pages = pages;
    STEMMA_RETURN_IF_ERROR(executor.forward(std::span<const SequenceStep>(&step, 1), sorted_rows));
    start = end + 1;
  }

  const size_t vocab = static_cast<size_t>(executor.config().vocab_size);
  std::vector<float> out;
  out.reserve(positions.size() * vocab);
  for (int64_t p : positions) {
    const size_t r =
        static_cast<size_t>(std::lower_bound(ends.begin(), ends.end(), p) - ends.begin());
    out.insert(out.end(), sorted_rows.begin() + static_cast<ptrdiff_t>(r * vocab),
               sorted_rows.begin() + static_cast<ptrdiff_t>((r + 1) * vocab));
  }
  return out;
}

}  // namespace stemma::cpu
