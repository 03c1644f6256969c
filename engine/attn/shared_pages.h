// Which KV segments the sequences of one step share, read off their page lists: the radix
// tree hands every request that matched a cached prefix that prefix's own pages, so equal page
// ids at equal positions are the tree's shared nodes. The result is what build_attention_plan
// takes (segments + each request's path), so a backend can read each shared segment once for
// all the requests under it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/attn/attention_plan.h"

namespace stemma::attn {

// One sequence of the step: its page list covers kv_len positions, the last num_queries of
// which are its new tokens, at rows [first_query_token, first_query_token + num_queries) of Q.
struct SequencePages {
  std::span<const int32_t> pages;
  int32_t kv_len = 0;
  int32_t num_queries = 0;
  int32_t first_query_token = 0;
};

struct BatchSegments {
  std::vector<Segment> segments;           // page spans point into the SequencePages' lists
  std::vector<RequestAttention> requests;  // one per sequence, in order
};

// Groups full pages that two or more sequences hold at the same index into shared segments
// (maximal runs with one set of readers); the rest of each sequence is one private segment.
// A page only some readers have filled (a last, partial page) is never shared.
BatchSegments group_shared_pages(std::span<const SequencePages> seqs, int32_t page_size);

}  // namespace stemma::attn
