#include "engine/constrain/longest_match_encoder.h"

#include <algorithm>

namespace stemma::constrain {

LongestMatchEncoder::LongestMatchEncoder(std::shared_ptr<const TokenIndex> index)
    : index_(std::move(index)) {
  children_.emplace_back();
  token_.push_back(-1);
  const Vocabulary& v = index_->vocab();
  for (int32_t id = 0; id < v.size(); ++id) {
    if (v.special[id] || index_->is_eos(id) || v.tokens[id].empty()) continue;
    int32_t node = 0;
    for (char c : v.tokens[id]) {
      uint8_t b = static_cast<uint8_t>(c);
      auto& kids = children_[node];
      auto it =
          std::find_if(kids.begin(), kids.end(), [&](const Child& ch) { return ch.byte == b; });
      if (it == kids.end()) {
        int32_t fresh = static_cast<int32_t>(children_.size());
        children_[node].push_back({b, fresh});
        children_.emplace_back();
        token_.push_back(-1);
        node = fresh;
      } else {
        node = it->node;
      }
    }
    if (token_[node] < 0) token_[node] = id;
  }
}

std::vector<int32_t> LongestMatchEncoder::encode(std::string_view text) const {
  std::vector<int32_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t node = 0, best = -1;
    size_t best_len = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      uint8_t b = static_cast<uint8_t>(text[i]);
      const auto& kids = children_[node];
      auto it =
          std::find_if(kids.begin(), kids.end(), [&](const Child& ch) { return ch.byte == b; });
      if (it == kids.end()) break;
      node = it->node;
      if (token_[node] >= 0) best = token_[node], best_len = i - pos + 1;
    }
    if (best < 0) return {};
    out.push_back(best);
    pos += best_len;
  }
  return out;
}

}  // namespace stemma::constrain
