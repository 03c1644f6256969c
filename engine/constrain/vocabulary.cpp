#include "engine/constrain/vocabulary.h"

#include <algorithm>
#include <numeric>

namespace stemma::constrain {

bool TokenIndex::is_eos(int32_t id) const {
  return id >= 0 && id < static_cast<int32_t>(eos_.size()) && eos_[id] != 0;
}

Result<std::shared_ptr<const TokenIndex>> TokenIndex::build(Vocabulary vocab) {
  const int32_t n = vocab.size();
  if (!vocab.special.empty() && static_cast<int32_t>(vocab.special.size()) != n) {
    return InvalidArgument("vocabulary: special flags (" + std::to_string(vocab.special.size()) +
                           ") do not match the token count (" + std::to_string(n) + ")");
  }
  vocab.special.resize(n, 0);
  auto index = std::make_shared<TokenIndex>();
  index->eos_.assign(n, 0);
  for (int32_t id : vocab.eos_ids) {
    if (id < 0 || id >= n) {
      return InvalidArgument("vocabulary: EOS id " + std::to_string(id) + " is out of range");
    }
    index->eos_[id] = 1;
  }
  // Sort the grammar-visible tokens by bytes; a preorder trie falls out of the sorted order.
  std::vector<int32_t> order;
  for (int32_t i = 0; i < n; ++i) {
    if (vocab.tokens[i].size() > 60000) {
      return InvalidArgument("vocabulary: token " + std::to_string(i) + " is over 60000 bytes");
    }
    if (!vocab.special[i] && !index->eos_[i] && !vocab.tokens[i].empty()) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return vocab.tokens[a] < vocab.tokens[b] || (vocab.tokens[a] == vocab.tokens[b] && a < b);
  });
  std::vector<Node>& nodes = index->nodes_;
  std::vector<int32_t> path;  // node index at each depth of the current prefix
  std::string prefix;
  for (int32_t id : order) {
    const std::string& t = vocab.tokens[id];
    index->max_len_ = std::max<int32_t>(index->max_len_, static_cast<int32_t>(t.size()));
    size_t common = 0;
    while (common < prefix.size() && common < t.size() && prefix[common] == t[common]) ++common;
    // Close nodes deeper than the common prefix.
    while (path.size() > common) {
      nodes[path.back()].subtree_end = static_cast<int32_t>(nodes.size());
      path.pop_back();
    }
    prefix.resize(common);
    for (size_t d = common; d < t.size(); ++d) {
      Node node{0, -1, static_cast<uint16_t>(d + 1), static_cast<uint8_t>(t[d])};
      path.push_back(static_cast<int32_t>(nodes.size()));
      nodes.push_back(node);
      prefix.push_back(t[d]);
    }
    Node& leaf = nodes[path.back()];
    if (leaf.token < 0) {
      leaf.token = id;
    } else {
      index->extra_.push_back({path.back(), id});
    }
  }
  while (!path.empty()) {
    nodes[path.back()].subtree_end = static_cast<int32_t>(nodes.size());
    path.pop_back();
  }
  index->vocab_ = std::move(vocab);
  return std::shared_ptr<const TokenIndex>(std::move(index));
}

}  // namespace stemma::constrain
