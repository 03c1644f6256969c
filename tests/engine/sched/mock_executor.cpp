#include "mock_executor.h"

#include <algorithm>
#include <limits>
#include <string>

namespace stemma::testing {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t slot_value(int32_t token, int64_t pos) {
  return mix((static_cast<uint64_t>(static_cast<uint32_t>(token)) << 32) ^
             static_cast<uint64_t>(pos));
}

uint64_t fold(uint64_t h, uint64_t v) {
  return mix(h ^ v);
}

void logits_from_state(uint64_t h, int64_t vocab_size, std::vector<float>& out) {
  for (int64_t v = 0; v < vocab_size; ++v) {
    out.push_back(static_cast<float>(mix(h + static_cast<uint64_t>(v)) >> 40) / 16777216.0f * 8.0f);
  }
}

}  // namespace

MockExecutor::MockExecutor(int64_t vocab_size, int32_t page_size, int32_t num_pages) {
  config_.arch_name = "mock";
  config_.vocab_size = vocab_size;
  config_.num_layers = 1;
  config_.num_heads = 1;
  config_.num_kv_heads = 1;
  config_.head_dim = 1;
  config_.hidden_size = 1;
  shape_.num_layers = 1;
  shape_.num_kv_heads = 1;
  shape_.head_dim = 1;
  shape_.page_size = page_size;
  shape_.num_pages = num_pages;
  // Garbage in unwritten slots, so that reading one is visible in the tokens.
  slots_.resize(static_cast<size_t>(page_size) * num_pages);
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i] = mix(0xdead0000ULL + i);
}

Status MockExecutor::forward(std::span<const SequenceStep> batch, std::vector<float>& logits) {
  ++forwards_;
  max_batch_ = std::max(max_batch_, batch.size());
  if (fail_next_) {
    fail_next_ = false;
    return Internal("mock executor: injected failure");
  }
  if (on_forward_) on_forward_(batch);
  const int64_t ps = shape_.page_size;
  for (size_t b = 0; b < batch.size(); ++b) {
    const SequenceStep& s = batch[b];
    const int64_t end = s.past_len + static_cast<int64_t>(s.tokens.size());
    if (s.tokens.empty() || s.past_len < 0) {
      return InvalidArgument("mock executor: sequence " + std::to_string(b) + " has no tokens");
    }
    if (static_cast<int64_t>(s.pages.size()) * ps < end) {
      return InvalidArgument("mock executor: sequence " + std::to_string(b) + " has " +
                             std::to_string(s.pages.size()) + " pages for " + std::to_string(end) +
                             " positions");
    }
    for (int32_t p : s.pages) {
      if (p < 0 || p >= shape_.num_pages) {
        return OutOfRange("mock executor: page " + std::to_string(p) + " outside the pool");
      }
    }
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      const int64_t pos = s.past_len + static_cast<int64_t>(i);
      slot(s.pages[static_cast<size_t>(pos / ps)], static_cast<int32_t>(pos % ps)) =
          slot_value(s.tokens[i], pos);
    }
    // Logits of position p hash every slot in [0, p]: the last new token's row, or (all_logits)
    // one row per new token.
    uint64_t h = 0;
    for (int64_t pos = 0; pos < end; ++pos) {
      h = fold(h, slot(s.pages[static_cast<size_t>(pos / ps)], static_cast<int32_t>(pos % ps)));
      if (pos + 1 == end || (s.all_logits && pos >= s.past_len)) {
        logits_from_state(h, config_.vocab_size, logits);
      }
    }
    tokens_computed_ += static_cast<int64_t>(s.tokens.size());
  }
  if (interrupted()) {
    // Abandoned: every new slot gets a value no token at that position has, so a scheduler
    // that kept any of it (or read it back without recomputing) gives different tokens.
    for (const SequenceStep& s : batch) {
      for (size_t i = 0; i < s.tokens.size(); ++i) {
        const int64_t pos = s.past_len + static_cast<int64_t>(i);
        slot(s.pages[static_cast<size_t>(pos / ps)], static_cast<int32_t>(pos % ps)) =
            mix(0xabad0000ULL + static_cast<uint64_t>(pos));
      }
      tokens_computed_ -= static_cast<int64_t>(s.tokens.size());
    }
    ++interrupted_;
    return Cancelled("mock executor: step interrupted");
  }
  return OkStatus();
}

Status MockExecutor::forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                             std::vector<float>& logits, std::vector<int32_t>& argmax) {
  if (!argmax_rows_) return ModelExecutor::forward(batch, shared, logits, argmax);
  std::vector<float> all;
  STEMMA_RETURN_IF_ERROR(forward(batch, all));
  const size_t vocab = static_cast<size_t>(config_.vocab_size);
  size_t row = 0;
  for (const SequenceStep& s : batch) {
    if (s.argmax_only && s.all_logits)
      return InvalidArgument("mock executor: argmax_only with all_logits");
    const size_t rows = s.all_logits ? s.tokens.size() : 1;
    const float* first = all.data() + row * vocab;
    if (s.argmax_only) {
      int32_t best = -1;  // the largest, lowest index on ties; NaN and -inf never win
      for (size_t i = 0; i < vocab; ++i) {
        if (first[i] > (best < 0 ? -std::numeric_limits<float>::infinity() : first[best]))
          best = static_cast<int32_t>(i);
      }
      argmax.push_back(best);
      ++argmax_served_;
    } else {
      logits.insert(logits.end(), first, first + rows * vocab);
    }
    row += rows;
  }
  return OkStatus();
}

Status MockExecutor::copy_page(int32_t src, int32_t dst, int32_t num_slots) {
  if (src < 0 || src >= shape_.num_pages || dst < 0 || dst >= shape_.num_pages || num_slots < 0 ||
      num_slots > shape_.page_size) {
    return OutOfRange("mock executor: bad copy_page");
  }
  ++copies_;
  for (int32_t i = 0; i < num_slots; ++i) slot(dst, i) = slot(src, i);
  return OkStatus();
}

void MockExecutor::reference_logits(std::span<const int32_t> tokens, int64_t vocab_size,
                                    std::vector<float>& out) {
  uint64_t h = 0;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    h = fold(h, slot_value(tokens[pos], static_cast<int64_t>(pos)));
  }
  logits_from_state(h, vocab_size, out);
}

std::vector<int32_t> MockExecutor::reference_greedy(std::vector<int32_t> prompt, int64_t vocab_size,
                                                    int32_t max_tokens,
                                                    std::span<const int32_t> stop_ids) {
  std::vector<int32_t> out;
  std::vector<float> logits;
  while (static_cast<int32_t>(out.size()) < max_tokens) {
    logits.clear();
    reference_logits(prompt, vocab_size, logits);
    int32_t best =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(best);
    prompt.push_back(best);
    if (std::find(stop_ids.begin(), stop_ids.end(), best) != stop_ids.end()) break;
  }
  return out;
}

}  // namespace stemma::testing
