// The attention plan of one step: which KV segments each query attends, grouped so that a
// segment shared by several requests (a radix-tree node) is read once for all of them, and split
// so that the work fills every SM. Built on the host; the CUDA and CPU executors both follow it.
//
// A request's KV cache is a path of segments (root to leaf of the radix tree). Segment token 0
// sits in slot 0 of the segment's first page; token t is in page t / page_size, slot t %
// page_size. The request's query tokens are its last `num_queries` KV positions (their K/V are
// already in the cache): query j sits at absolute position kv_len - num_queries + j and attends
// positions <= its own (decode: one query that sees everything).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/api/status.h"
#include "engine/attn/attention_cost_model.h"
#include "kernels/attention_item.h"

namespace stemma::attn {

struct Segment {
  int32_t id = 0;                  // unique within the batch; the same id means the same pages
  std::span<const int32_t> pages;  // covers num_tokens positions
  int32_t num_tokens = 0;
};

struct RequestAttention {
  int32_t first_query_token = 0;  // row of its first query in Q and in the output
  int32_t num_queries = 1;        // 1 for decode; a prefill chunk's length otherwise
  std::vector<int32_t> path;      // indices into the batch's segment list, root first
};

struct PlanOptions {
  int32_t page_size = 16;
  int32_t num_q_heads = 32;
  int32_t num_kv_heads = 8;
  int32_t head_dim = 128;
  int32_t kv_dtype_bytes = 2;
  bool share_segments = true;  // false: every request reads its own copy (the baseline plan)
  // With sharing on: also plan without it and keep the plan the cost model predicts faster
  // (a lone request or a short prefix gains nothing from sharing). Tests turn it off to force
  // the shared path.
  bool keep_faster_plan = true;
  CostModel cost;  // measured constants (attention_cost_model.h)
};

// The kernels' own item type (kernels/attention_item.h, plain C++): planner and kernels share
// one definition and one page layout.
using WorkItem = kernels::PagedAttnItem;

struct AttentionPlan {
  std::vector<WorkItem> items;             // in launch order: costliest first
  std::vector<int32_t> page_ids;           // segments' page lists, items point into it
  std::vector<int32_t> member_token;       // query token of each member
  std::vector<int32_t> member_pos;         // its absolute position (causal limit)
  std::vector<int32_t> token_state_begin;  // CSR over query tokens: num_query_tokens + 1
  std::vector<int32_t> token_states;       // partial-state slots of each query token
  int32_t num_states = 0;
  int32_t num_query_tokens = 0;
  double predicted_ns = 0;  // the cost model's estimate of the attention kernel's time
};

inline constexpr int32_t kKvSplitAlign = 64;  // KV splits start at multiples of the kernel tile
inline constexpr int32_t kMaxRowsPerItem = kernels::kPagedAttnMaxRows;

// Validates the batch (segment ids, page counts, shared segments at one position, query rows in
// range) and builds the plan.
Result<AttentionPlan> build_attention_plan(std::span<const Segment> segments,
                                           std::span<const RequestAttention> requests,
                                           const PlanOptions& options);

}  // namespace stemma::attn
