// Random batches for attention tests: a radix tree of segments over a pool of shuffled pages,
// requests on random root-to-leaf paths with ragged (possibly empty) own suffixes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "engine/attn/attention_plan.h"

namespace stemma::attn::testing {

struct RandomBatch {
  std::vector<std::vector<int32_t>> seg_pages;  // owns the page lists
  std::vector<Segment> segments;
  std::vector<RequestAttention> requests;
  int32_t num_pages = 0;
  int32_t num_query_tokens = 0;
};

struct RandomBatchShape {
  int32_t num_requests = 8;
  int32_t page_size = 16;
  int32_t max_depth = 3;         // shared levels above each request's own suffix
  int32_t max_shared_pages = 8;  // per shared segment
  int32_t max_suffix_tokens = 80;
  int32_t max_queries = 1;  // >1 gives prefill-like requests
  int32_t fanout = 3;       // children per tree node
};

inline RandomBatch make_random_batch(std::mt19937& rng, const RandomBatchShape& shape) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  RandomBatch b;
  // Tree nodes: node 0 is the root (maybe empty); children get random page-aligned lengths.
  struct Node {
    int parent;
    int32_t tokens;
  };
  std::vector<Node> nodes = {{-1, uni(0, shape.max_shared_pages) * shape.page_size}};
  std::vector<int> depth = {0};
  const int num_nodes = uni(1, 1 + shape.fanout * shape.max_depth);
  for (int i = 1; i < num_nodes; ++i) {
    int parent = uni(0, i - 1);
    if (depth[parent] >= shape.max_depth) parent = 0;
    nodes.push_back({parent, uni(1, shape.max_shared_pages) * shape.page_size});
    depth.push_back(depth[parent] + 1);
  }
  std::vector<int32_t> page_count;
  for (const Node& n : nodes) page_count.push_back(n.tokens / shape.page_size);
  std::vector<int32_t> suffix_tokens;
  std::vector<int> leaf_of;
  for (int r = 0; r < shape.num_requests; ++r) {
    leaf_of.push_back(uni(0, num_nodes - 1));
    int32_t t = uni(0, shape.max_suffix_tokens);
    if (t == 0 && nodes[leaf_of.back()].tokens == 0 && leaf_of.back() == 0) t = 1;
    suffix_tokens.push_back(t);
    page_count.push_back((t + shape.page_size - 1) / shape.page_size);
  }
  // Shuffled pool: page tables are not contiguous.
  const int32_t total_pages = std::accumulate(page_count.begin(), page_count.end(), 0) + 3;
  std::vector<int32_t> pool(total_pages);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), rng);
  b.num_pages = total_pages;
  size_t next = 0;
  for (int32_t c : page_count) {
    b.seg_pages.emplace_back(pool.begin() + next, pool.begin() + next + c);
    next += c;
  }
  for (int i = 0; i < num_nodes; ++i) {
    b.segments.push_back({1000 + i, b.seg_pages[i], nodes[i].tokens});
  }
  int32_t row = 0;
  for (int r = 0; r < shape.num_requests; ++r) {
    b.segments.push_back({5000 + r, b.seg_pages[num_nodes + r], suffix_tokens[r]});
    RequestAttention req;
    std::vector<int32_t> path;
    for (int n = leaf_of[r]; n >= 0; n = nodes[n].parent) path.push_back(n);
    std::reverse(path.begin(), path.end());
    path.push_back(num_nodes + r);
    int32_t kv_len = 0;
    for (int32_t s : path) kv_len += b.segments[s].num_tokens;
    req.path = path;
    req.num_queries = std::min(kv_len, uni(1, shape.max_queries));
    req.first_query_token = row;
    row += req.num_queries + uni(0, 1);  // sometimes a gap: rows nobody queries
    b.requests.push_back(req);
  }
  b.num_query_tokens = row;
  std::shuffle(b.requests.begin(), b.requests.end(), rng);
  return b;
}

}  // namespace stemma::attn::testing
