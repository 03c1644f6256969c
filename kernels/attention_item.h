// One unit of paged-attention work, the type the attention planner (engine/attn) writes and the
// attention kernels (paged_attention.h, plan_attention.h) read: plain C++, no CUDA, so both
// sides include it and share one definition.
//
// Page layout (both sides): page p of a layer holds `page_size` positions laid out
// [kv_head][slot][head_dim] (HND) at cache + p * page_stride; a segment's token t sits in page
// page_ids[page_offset + t / page_size], slot t % page_size.
#pragma once

#include <cstdint>

namespace stemma::kernels {

// A token range of one KV segment (a list of pages) attended by a group of query tokens
// ("members"). The kernel runs it for every KV head and writes one partial softmax state per
// (member, q head of that KV head).
struct PagedAttnItem {
  int32_t page_offset = 0;    // index into page_ids of the segment's first page
  int32_t kv_begin = 0;       // first token of the range, relative to the segment
  int32_t kv_end = 0;         // one past the last token (relative to the segment); > kv_begin
  int32_t kv_pos_offset = 0;  // absolute position of the segment's token 0 (causal mask)
  int32_t member_offset = 0;  // index into member_token / member_pos
  int32_t num_members = 0;    // num_members * (q heads per KV head) <= kPagedAttnMaxRows
  int32_t state_offset = 0;   // partial-state slot of member 0; member m writes state_offset + m
  int32_t reserved = 0;
};
static_assert(sizeof(PagedAttnItem) == 32);

inline constexpr int kPagedAttnMaxRows = 64;  // query rows (members x heads per KV head) per item

}  // namespace stemma::kernels
