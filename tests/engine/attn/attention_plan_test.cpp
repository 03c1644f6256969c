#include "engine/attn/attention_plan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <tuple>

#include "tests/engine/attn/random_batch.h"

namespace stemma::attn {
namespace {

using testing::make_random_batch;
using testing::RandomBatch;
using testing::RandomBatchShape;

PlanOptions options_for(int32_t page_size, bool share, int32_t q_heads = 32, int32_t kv_heads = 8) {
  PlanOptions o;
  o.page_size = page_size;
  o.num_q_heads = q_heads;
  o.num_kv_heads = kv_heads;
  o.share_segments = share;
  o.keep_faster_plan = false;
  return o;
}

// Replays the plan: every (query token, KV position) must be visited exactly once per position
// at or before the query, at the page and slot the request's path puts it, and never after.
void check_coverage(const RandomBatch& b, const AttentionPlan& plan, const PlanOptions& o) {
  const int32_t group = o.num_q_heads / o.num_kv_heads;
  // Expected (page, slot) of each position of each query token's request; -1 rows: no query.
  std::vector<std::vector<std::pair<int32_t, int32_t>>> kv_of(plan.num_query_tokens);
  std::vector<int32_t> pos_of(plan.num_query_tokens, -1);
  for (const RequestAttention& req : b.requests) {
    std::vector<std::pair<int32_t, int32_t>> kv;
    for (int32_t s : req.path) {
      for (int32_t t = 0; t < b.segments[s].num_tokens; ++t) {
        kv.emplace_back(b.segments[s].pages[t / o.page_size], t % o.page_size);
      }
    }
    for (int32_t j = 0; j < req.num_queries; ++j) {
      kv_of.at(req.first_query_token + j) = kv;
      pos_of[req.first_query_token + j] = static_cast<int32_t>(kv.size()) - req.num_queries + j;
    }
  }
  std::vector<std::vector<int32_t>> visits(plan.num_query_tokens);
  for (int32_t tok = 0; tok < plan.num_query_tokens; ++tok)
    visits[tok].assign(kv_of[tok].size(), 0);
  std::vector<int32_t> slot_token(plan.num_states, -1);
  int64_t misplaced = 0, stray = 0, slot_reused = 0, bad_shape = 0;
  for (const WorkItem& it : plan.items) {
    bad_shape += !(it.kv_begin % 16 == 0 && it.kv_end > it.kv_begin && it.num_members >= 1 &&
                   it.num_members * group <= kMaxRowsPerItem);
    for (int32_t m = 0; m < it.num_members; ++m) {
      const int32_t token = plan.member_token[it.member_offset + m];
      const int32_t pos = plan.member_pos[it.member_offset + m];
      slot_reused += slot_token[it.state_offset + m] != -1;
      slot_token[it.state_offset + m] = token;
      if (pos != pos_of.at(token)) ++stray;
      for (int32_t t = it.kv_begin; t < it.kv_end; ++t) {
        const int32_t abs = it.kv_pos_offset + t;
        if (abs > pos) continue;  // masked by the kernel
        if (abs >= static_cast<int32_t>(visits[token].size())) {
          ++stray;
          continue;
        }
        ++visits[token][abs];
        const std::pair<int32_t, int32_t> at{plan.page_ids.at(it.page_offset + t / o.page_size),
                                             t % o.page_size};
        misplaced += at != kv_of[token][abs];
      }
    }
  }
  int64_t missing = 0, repeated = 0, csr_wrong = 0;
  for (int32_t tok = 0; tok < plan.num_query_tokens; ++tok) {
    for (int32_t a = 0; a < static_cast<int32_t>(visits[tok].size()); ++a) {
      const int32_t want = a <= pos_of[tok] ? 1 : 0;
      missing += visits[tok][a] < want;
      repeated += visits[tok][a] > want;
    }
    // The merge sees exactly the slots this token's items wrote.
    std::vector<int32_t> from_csr(plan.token_states.begin() + plan.token_state_begin[tok],
                                  plan.token_states.begin() + plan.token_state_begin[tok + 1]);
    std::vector<int32_t> written;
    for (int32_t s = 0; s < plan.num_states; ++s) {
      if (slot_token[s] == tok) written.push_back(s);
    }
    std::sort(from_csr.begin(), from_csr.end());
    csr_wrong += from_csr != written;
  }
  CHECK(bad_shape == 0);
  CHECK(slot_reused == 0);
  CHECK(missing == 0);
  CHECK(repeated == 0);
  CHECK(misplaced == 0);
  CHECK(stray == 0);
  CHECK(csr_wrong == 0);
}

TEST_CASE("random trees: every query attends each of its KV positions exactly once") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 120; ++trial) {
    RandomBatchShape shape;
    shape.num_requests = 1 + trial % 40;
    shape.page_size = (trial % 3 == 0) ? 32 : 16;
    shape.max_queries = (trial % 4 == 3) ? 70 : 1;
    shape.max_depth = 1 + trial % 4;
    const RandomBatch b = make_random_batch(rng, shape);
    for (bool share : {true, false}) {
      for (auto [qh, kvh] : {std::pair{32, 8}, std::pair{28, 4}, std::pair{8, 8}}) {
        CAPTURE(trial);
        CAPTURE(share);
        CAPTURE(qh);
        const PlanOptions o = options_for(shape.page_size, share, qh, kvh);
        auto plan = build_attention_plan(b.segments, b.requests, o);
        REQUIRE_MESSAGE(plan.ok(), plan.status().to_string());
        check_coverage(b, *plan, o);
      }
    }
  }
}

TEST_CASE("a shared segment is read by one item per row chunk, not once per request") {
  std::vector<int32_t> prefix_pages(256);  // 4096 tokens
  for (int i = 0; i < 256; ++i) prefix_pages[i] = 1000 - i;
  std::vector<std::vector<int32_t>> own(64);
  std::vector<Segment> segs = {{7, prefix_pages, 4096}};
  std::vector<RequestAttention> reqs;
  for (int r = 0; r < 64; ++r) {
    own[r] = {2000 + r};
    segs.push_back({100 + r, own[r], 5});
    reqs.push_back({r, 1, {0, r + 1}});
  }
  PlanOptions o = options_for(16, true);
  auto shared = build_attention_plan(segs, reqs, o);
  REQUIRE(shared.ok());
  int64_t prefix_tokens_read = 0;
  for (const WorkItem& it : shared->items) {
    if (it.page_offset == 0) prefix_tokens_read += it.kv_end - it.kv_begin;
  }
  // 64 requests x 4 heads per KV head = 256 rows = 4 chunks of 64 rows.
  CHECK(prefix_tokens_read == 4 * 4096);
  o.share_segments = false;
  auto base = build_attention_plan(segs, reqs, o);
  REQUIRE(base.ok());
  int64_t base_tokens = 0;
  for (const WorkItem& it : base->items) base_tokens += it.kv_end - it.kv_begin;
  CHECK(base_tokens == 64 * (4096 + 5));
  CHECK(shared->predicted_ns < base->predicted_ns);
}

TEST_CASE("segments only one request reads are planned as one range, as in the baseline") {
  // One request over a three-level path (a radix tree's nodes, none shared): the shared plan
  // must be the baseline's, not three ranges with their own blocks and partial states.
  std::vector<int32_t> a(64), b(128), c(3);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 500);
  std::iota(c.begin(), c.end(), 900);
  std::vector<Segment> segs = {{1, a, 1024}, {2, b, 2048}, {3, c, 40}};
  std::vector<RequestAttention> reqs = {{0, 1, {0, 1, 2}}};
  auto shared = build_attention_plan(segs, reqs, options_for(16, true));
  auto base = build_attention_plan(segs, reqs, options_for(16, false));
  REQUIRE(shared.ok());
  REQUIRE(base.ok());
  CHECK(shared->page_ids == base->page_ids);
  REQUIRE(shared->items.size() == base->items.size());
  for (size_t i = 0; i < shared->items.size(); ++i) {
    CHECK(shared->items[i].kv_begin == base->items[i].kv_begin);
    CHECK(shared->items[i].kv_end == base->items[i].kv_end);
  }
  CHECK(shared->num_states == base->num_states);

  // Two requests sharing the first segment: it stays one range read by both, and each
  // request's two private segments become one range (2 + 1 ranges in all).
  std::vector<int32_t> d(128), e(3);
  std::iota(d.begin(), d.end(), 1500);
  std::iota(e.begin(), e.end(), 1900);
  segs.push_back({4, d, 2048});
  segs.push_back({5, e, 33});
  reqs = {{0, 1, {0, 1, 2}}, {1, 1, {0, 3, 4}}};
  PlanOptions o = options_for(16, true);
  o.cost.min_split_tokens = 1 << 20;  // no splits: one item per range and row chunk
  auto two = build_attention_plan(segs, reqs, o);
  REQUIRE(two.ok());
  CHECK(two->items.size() == 3);
  RandomBatch rb;
  rb.segments = segs;
  rb.requests = reqs;
  check_coverage(rb, *two, o);
}

TEST_CASE("long sequences are split into balanced pieces that fill the SMs") {
  // One request, 32k tokens: 8 KV heads give 8 blocks unless the sequence is split.
  std::vector<int32_t> pages(2048);
  for (int i = 0; i < 2048; ++i) pages[i] = i;
  std::vector<Segment> segs = {{1, pages, 32768}};
  std::vector<RequestAttention> reqs = {{0, 1, {0}}};
  const PlanOptions o = options_for(16, true);
  auto plan = build_attention_plan(segs, reqs, o);
  REQUIRE(plan.ok());
  const int64_t blocks = static_cast<int64_t>(plan->items.size()) * o.num_kv_heads;
  CHECK(blocks >= o.cost.num_sms);  // fills the GPU
  CHECK(plan->items.size() <= 32768 / static_cast<size_t>(o.cost.min_split_tokens));
  int32_t lo = 1 << 30, hi = 0;
  for (const WorkItem& it : plan->items) {
    lo = std::min(lo, it.kv_end - it.kv_begin);
    hi = std::max(hi, it.kv_end - it.kv_begin);
  }
  CHECK(hi - lo <= kKvSplitAlign);  // equal pieces up to the tile alignment

  // Many ragged requests: the predicted makespan stays near the ideal balance.
  std::mt19937 rng(7);
  std::vector<std::vector<int32_t>> own(200);
  std::vector<Segment> many;
  std::vector<RequestAttention> many_reqs;
  double work = 0, longest_piece = 0;
  for (int r = 0; r < 200; ++r) {
    const int32_t len = std::uniform_int_distribution<int32_t>(1, 20000)(rng);
    own[r].resize((len + 15) / 16);
    std::iota(own[r].begin(), own[r].end(), r * 2000);
    many.push_back({r, own[r], len});
    many_reqs.push_back({r, 1, {r}});
  }
  auto mplan = build_attention_plan(many, many_reqs, o);
  REQUIRE(mplan.ok());
  for (const WorkItem& it : mplan->items) {
    const double ns = o.cost.block_ns(it.kv_end - it.kv_begin, 4, 128, 2);
    work += ns * o.num_kv_heads;
    longest_piece = std::max(longest_piece, ns);
  }
  const double ideal = work / (o.cost.num_sms * o.cost.blocks_per_sm);
  CHECK(mplan->predicted_ns <= ideal + longest_piece);  // list-scheduling bound
  CHECK(longest_piece <= 1.5 * ideal + o.cost.block_ns(kKvSplitAlign, 4, 128, 2));
}

TEST_CASE("bad batches are rejected with a message that names the problem") {
  std::vector<int32_t> pages = {0, 1};
  std::vector<Segment> segs = {{1, pages, 40}};  // 40 tokens need 3 pages of 16
  std::vector<RequestAttention> reqs = {{0, 1, {0}}};
  auto r = build_attention_plan(segs, reqs, options_for(16, true));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("segment 1") != std::string::npos);

  segs = {{1, pages, 32}, {1, pages, 16}};
  r = build_attention_plan(segs, reqs, options_for(16, true));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("appears twice") != std::string::npos);

  segs = {{1, pages, 32}};
  reqs = {{0, 1, {3}}};
  CHECK_FALSE(build_attention_plan(segs, reqs, options_for(16, true)).ok());
  reqs = {{0, 40, {0}}};  // more queries than KV positions
  CHECK_FALSE(build_attention_plan(segs, reqs, options_for(16, true)).ok());
  reqs = {{0, 2, {0}}, {1, 1, {0}}};  // overlapping query rows
  CHECK_FALSE(build_attention_plan(segs, reqs, options_for(16, true)).ok());
  CHECK_FALSE(build_attention_plan(segs, {}, options_for(24, true)).ok());  // page size
  // A segment at two different depths cannot be one shared node.
  std::vector<int32_t> p2 = {2};
  segs = {{1, pages, 32}, {2, p2, 16}};
  reqs = {{0, 1, {0, 1}}, {1, 1, {1}}};
  r = build_attention_plan(segs, reqs, options_for(16, true));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("starts at position") != std::string::npos);
}

}  // namespace
}  // namespace stemma::attn
