// group_shared_pages: the segments a step's sequences share, read off their page lists.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

#include "engine/attn/shared_pages.h"

namespace stemma::attn {
namespace {

// Every sequence's path must spell its own pages and length; a segment is shared exactly by
// the sequences holding its (full) pages at the same indices.
void check(std::span<const SequencePages> seqs, const BatchSegments& b, int32_t page_size) {
  REQUIRE(b.requests.size() == seqs.size());
  std::map<int32_t, std::set<size_t>> readers;
  for (size_t r = 0; r < seqs.size(); ++r) {
    std::vector<int32_t> pages;
    int32_t tokens = 0;
    for (int32_t s : b.requests[r].path) {
      const Segment& seg = b.segments[static_cast<size_t>(s)];
      CHECK(tokens % page_size == 0);  // segments start on page boundaries
      tokens += seg.num_tokens;
      pages.insert(pages.end(), seg.pages.begin(), seg.pages.end());
      readers[seg.id].insert(r);
    }
    CHECK(tokens == seqs[r].kv_len);
    const size_t used = static_cast<size_t>((seqs[r].kv_len + page_size - 1) / page_size);
    CHECK(pages == std::vector<int32_t>(seqs[r].pages.begin(), seqs[r].pages.begin() + used));
    CHECK(b.requests[r].num_queries == seqs[r].num_queries);
    CHECK(b.requests[r].first_query_token == seqs[r].first_query_token);
  }
  for (const Segment& seg : b.segments) {
    const auto& who = readers[seg.id];
    if (who.size() > 1) CHECK(seg.num_tokens % page_size == 0);
  }
  // Maximal sharing: two sequences holding the same full page at the same index read it in
  // one segment.
  for (size_t a = 0; a < seqs.size(); ++a) {
    for (size_t c = a + 1; c < seqs.size(); ++c) {
      const int32_t full = std::min(seqs[a].kv_len, seqs[c].kv_len) / page_size;
      int32_t common = 0;
      while (common < full && seqs[a].pages[static_cast<size_t>(common)] ==
                                  seqs[c].pages[static_cast<size_t>(common)])
        ++common;
      int32_t shared_tokens = 0;
      for (const auto& [id, who] : readers)
        if (who.count(a) && who.count(c))
          shared_tokens += b.segments[static_cast<size_t>(id)].num_tokens;
      CHECK(shared_tokens == common * page_size);
    }
  }
}

}  // namespace

TEST_CASE("two requests under one cached prefix share its segment") {
  const std::vector<int32_t> a{0, 1, 2, 7}, b{0, 1, 2, 8, 9};
  std::vector<SequencePages> seqs{{a, 16 * 3 + 5, 1, 0}, {b, 16 * 4 + 2, 1, 1}};
  const BatchSegments r = group_shared_pages(seqs, 16);
  check(seqs, r, 16);
  REQUIRE(r.segments.size() == 3);
  CHECK(r.segments[0].num_tokens == 48);
  CHECK(r.requests[0].path.front() == r.requests[1].path.front());
  PlanOptions o;
  o.num_q_heads = 8;
  o.num_kv_heads = 2;
  o.keep_faster_plan = false;
  auto plan = build_attention_plan(r.segments, r.requests, o);
  REQUIRE(plan.ok());
}

TEST_CASE("random trees of shared prefixes group exactly") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int32_t page_size = 16;
    int32_t next_page = 0;
    std::vector<std::vector<int32_t>> lists;
    std::vector<SequencePages> seqs;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      std::vector<int32_t> pages;
      if (!lists.empty() && rng() % 3 != 0) {  // branch off an earlier sequence's full pages
        const auto& base = lists[rng() % lists.size()];
        const size_t keep = rng() % base.size();
        pages.assign(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(keep));
      }
      const int extra = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < extra; ++e) pages.push_back(next_page++);
      lists.push_back(std::move(pages));
    }
    int32_t row = 0;
    for (const auto& l : lists) {
      // The last page partly filled (or full).
      const int32_t kv = static_cast<int32_t>(l.size() - 1) * page_size + 1 +
                         static_cast<int32_t>(rng() % page_size);
      const int32_t q = 1 + static_cast<int32_t>(rng() % std::min(kv, 20));
      seqs.push_back({l, kv, q, row});
      row += q;
    }
    const BatchSegments r = group_shared_pages(seqs, page_size);
    check(seqs, r, page_size);
    PlanOptions o;
    o.num_q_heads = 4;
    o.num_kv_heads = 4;
    CHECK(build_attention_plan(r.segments, r.requests, o).ok());
  }
}

}  // namespace stemma::attn
