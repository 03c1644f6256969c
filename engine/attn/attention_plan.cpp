#include "engine/attn/attention_plan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>

namespace stemma::attn {
namespace {

// A KV range to be attended by a set of queries: a segment (shared mode) or a request's whole
// path (baseline mode).
struct Unit {
  int32_t page_offset = 0;
  int32_t start_pos = 0;  // absolute position of token 0
  int32_t num_tokens = 0;
  std::vector<std::pair<int32_t, int32_t>> members;  // (query token, absolute position)
};

struct Piece {
  int32_t unit = 0;
  int32_t member_offset = 0;
  int32_t num_members = 0;
  int32_t kv_begin = 0;
  int32_t kv_end = 0;
  double block_ns = 0;
};

int64_t pages_needed(int64_t tokens, int32_t page_size) {
  return (tokens + page_size - 1) / page_size;
}

Status validate(std::span<const Segment> segments, std::span<const RequestAttention> requests,
                const PlanOptions& o) {
  if (o.page_size <= 0 || o.page_size % 16 != 0) {
    return InvalidArgument("page_size " + std::to_string(o.page_size) +
                           " is not a positive multiple of 16");
  }
  if (o.num_kv_heads <= 0 || o.num_q_heads <= 0 || o.num_q_heads % o.num_kv_heads != 0) {
    return InvalidArgument("num_q_heads " + std::to_string(o.num_q_heads) +
                           " is not a multiple of num_kv_heads " + std::to_string(o.num_kv_heads));
  }
  if (o.num_q_heads / o.num_kv_heads > kMaxRowsPerItem) {
    return Unsupported("more than 64 query heads per KV head");
  }
  std::unordered_map<int32_t, size_t> ids;
  for (size_t s = 0; s < segments.size(); ++s) {
    const Segment& seg = segments[s];
    if (!ids.emplace(seg.id, s).second) {
      return InvalidArgument("segment id " + std::to_string(seg.id) + " appears twice");
    }
    if (seg.num_tokens < 0 ||
        static_cast<int64_t>(seg.pages.size()) < pages_needed(seg.num_tokens, o.page_size)) {
      return InvalidArgument("segment " + std::to_string(seg.id) + " has " +
                             std::to_string(seg.pages.size()) + " pages for " +
                             std::to_string(seg.num_tokens) + " tokens");
    }
  }
  std::vector<int32_t> seg_start(segments.size(), -1);
  std::vector<std::pair<int32_t, int32_t>> rows;
  for (size_t r = 0; r < requests.size(); ++r) {
    const RequestAttention& req = requests[r];
    int32_t pos = 0;
    std::vector<int32_t> seen;
    for (int32_t s : req.path) {
      if (s < 0 || static_cast<size_t>(s) >= segments.size()) {
        return InvalidArgument("request " + std::to_string(r) + " names segment index " +
                               std::to_string(s) + " of " + std::to_string(segments.size()));
      }
      if (std::find(seen.begin(), seen.end(), s) != seen.end()) {
        return InvalidArgument("request " + std::to_string(r) + " lists segment " +
                               std::to_string(segments[s].id) + " twice");
      }
      seen.push_back(s);
      if (seg_start[s] >= 0 && seg_start[s] != pos) {
        return InvalidArgument("segment " + std::to_string(segments[s].id) +
                               " starts at position " + std::to_string(seg_start[s]) +
                               " in one request and " + std::to_string(pos) + " in request " +
                               std::to_string(r));
      }
      seg_start[s] = pos;
      pos += segments[s].num_tokens;
    }
    if (req.num_queries < 1 || req.num_queries > pos || req.first_query_token < 0) {
      return InvalidArgument("request " + std::to_string(r) + " has " +
                             std::to_string(req.num_queries) + " queries (first row " +
                             std::to_string(req.first_query_token) + ") over " +
                             std::to_string(pos) + " KV positions");
    }
    rows.emplace_back(req.first_query_token, req.first_query_token + req.num_queries);
  }
  std::sort(rows.begin(), rows.end());
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].first < rows[i - 1].second) {
      return InvalidArgument("query rows of two requests overlap at row " +
                             std::to_string(rows[i].first));
    }
  }
  return OkStatus();
}

// Greedy list scheduling of the plan's blocks (items x KV heads, in launch order) onto the
// resident-block slots: what the hardware block scheduler does, to first order.
double simulate_makespan(const std::vector<Piece>& pieces, const PlanOptions& o) {
  const int slots = std::max(1, o.cost.num_sms * o.cost.blocks_per_sm);
  std::priority_queue<double, std::vector<double>, std::greater<double>> free_at;
  for (int i = 0; i < slots; ++i) free_at.push(0.0);
  double makespan = 0;
  for (const Piece& p : pieces) {
    for (int h = 0; h < o.num_kv_heads; ++h) {
      const double start = free_at.top();
      free_at.pop();
      const double end = start + p.block_ns;
      makespan = std::max(makespan, end);
      free_at.push(end);
    }
  }
  return makespan;
}

// Launch order: costliest first (longest-processing-time scheduling), keeping the row chunks of
// one KV range next to each other so that they read it from L2 while it is there.
void sort_for_launch(std::vector<Piece>& pieces) {
  std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
    const double ca = std::round(a.block_ns), cb = std::round(b.block_ns);
    if (ca != cb) return ca > cb;
    if (a.unit != b.unit) return a.unit < b.unit;
    return a.kv_begin < b.kv_begin;
  });
}

AttentionPlan build_plan(std::span<const Segment> segments,
                         std::span<const RequestAttention> requests, const PlanOptions& o) {
  const int32_t group = o.num_q_heads / o.num_kv_heads;
  AttentionPlan plan;

  std::vector<int32_t> seg_page_offset(segments.size(), -1);
  auto add_segment_pages = [&](size_t s) {
    if (seg_page_offset[s] < 0) {
      seg_page_offset[s] = static_cast<int32_t>(plan.page_ids.size());
      const int64_t n = pages_needed(segments[s].num_tokens, o.page_size);
      plan.page_ids.insert(plan.page_ids.end(), segments[s].pages.begin(),
                           segments[s].pages.begin() + n);
    }
    return seg_page_offset[s];
  };

  // 1. Units: who reads which KV range.
  std::vector<int32_t> readers(segments.size(), 0);
  for (const RequestAttention& req : requests) {
    for (int32_t s : req.path) ++readers[s];
  }
  std::vector<Unit> units;
  std::vector<int32_t> seg_unit(segments.size(), -1);
  for (const RequestAttention& req : requests) {
    int32_t kv_len = 0;
    bool aligned = true;
    for (size_t i = 0; i < req.path.size(); ++i) {
      kv_len += segments[req.path[i]].num_tokens;
      if (i + 1 < req.path.size() && segments[req.path[i]].num_tokens % o.page_size != 0) {
        aligned = false;
      }
    }
    auto add_members = [&](Unit& u) {
      for (int32_t j = 0; j < req.num_queries; ++j) {
        u.members.emplace_back(req.first_query_token + j, kv_len - req.num_queries + j);
      }
    };
    if (!o.share_segments && aligned) {
      // Baseline: the request's path is one sequence of pages, read by this request alone.
      Unit u;
      u.page_offset = static_cast<int32_t>(plan.page_ids.size());
      u.num_tokens = kv_len;
      for (int32_t s : req.path) {
        const int64_t n = pages_needed(segments[s].num_tokens, o.page_size);
        plan.page_ids.insert(plan.page_ids.end(), segments[s].pages.begin(),
                             segments[s].pages.begin() + n);
      }
      add_members(u);
      if (u.num_tokens > 0) units.push_back(std::move(u));
      continue;
    }
    int32_t pos = 0;
    // A run of segments this request alone reads is one unit, as in the baseline: splitting it
    // at segment boundaries would only add blocks and partial states (batch 1 plans the same
    // either way). The run's pages are contiguous in page_ids while nothing else is added.
    int32_t private_unit = -1;
    bool private_full_pages = false;
    for (int32_t s : req.path) {
      const Segment& seg = segments[s];
      if (seg.num_tokens > 0) {
        Unit* u = nullptr;
        const bool alone = o.share_segments && readers[s] == 1;
        if (alone && private_unit >= 0 && private_full_pages &&
            units[private_unit].page_offset +
                    pages_needed(units[private_unit].num_tokens, o.page_size) ==
                static_cast<int64_t>(plan.page_ids.size())) {
          Unit& run = units[private_unit];
          const int64_t n = pages_needed(seg.num_tokens, o.page_size);
          plan.page_ids.insert(plan.page_ids.end(), seg.pages.begin(), seg.pages.begin() + n);
          run.num_tokens += seg.num_tokens;
          private_full_pages = seg.num_tokens % o.page_size == 0;
          pos += seg.num_tokens;
          continue;  // members were added when the run began
        }
        if (o.share_segments && seg_unit[s] >= 0) {
          u = &units[seg_unit[s]];
        } else {
          units.emplace_back();
          u = &units.back();
          u->page_offset = add_segment_pages(s);
          u->start_pos = pos;
          u->num_tokens = seg.num_tokens;
          if (o.share_segments) seg_unit[s] = static_cast<int32_t>(units.size() - 1);
        }
        add_members(*u);
        private_unit = alone ? static_cast<int32_t>(u - units.data()) : -1;
        private_full_pages = seg.num_tokens % o.page_size == 0;
      }
      pos += seg.num_tokens;
    }
  }

  // 2. Row chunks (<= 64 query rows each) and their causal KV extent.
  const int32_t max_members = kMaxRowsPerItem / group;
  std::vector<Piece> chunks;
  for (size_t ui = 0; ui < units.size(); ++ui) {
    Unit& u = units[ui];
    std::stable_sort(u.members.begin(), u.members.end(),
                     [](const auto& a, const auto& b) { return a.second < b.second; });
    for (size_t m0 = 0; m0 < u.members.size(); m0 += max_members) {
      const size_t m1 = std::min(u.members.size(), m0 + max_members);
      const int32_t last_pos = u.members[m1 - 1].second;
      const int32_t kv_end = std::min(u.num_tokens, last_pos - u.start_pos + 1);
      if (kv_end <= 0) continue;  // these queries precede the segment: nothing to attend
      Piece c;
      c.unit = static_cast<int32_t>(ui);
      c.member_offset = static_cast<int32_t>(plan.member_token.size());
      c.num_members = static_cast<int32_t>(m1 - m0);
      c.kv_end = kv_end;
      for (size_t m = m0; m < m1; ++m) {
        plan.member_token.push_back(u.members[m].first);
        plan.member_pos.push_back(u.members[m].second);
      }
      chunks.push_back(c);
    }
  }

  // 3. Split long chunks so that no block runs much longer than its share. The share is the
  // total work over 1, 2, ... waves of resident blocks; the number of waves whose pieces the
  // list-scheduling simulation finishes first wins (more pieces balance better but each costs
  // a block's fixed time).
  const double slots = static_cast<double>(o.cost.num_sms) * o.cost.blocks_per_sm;
  double total = 0;
  for (const Piece& c : chunks) {
    total += o.cost.block_ns(c.kv_end, c.num_members * group, o.head_dim, o.kv_dtype_bytes) *
             o.num_kv_heads;
  }
  auto split = [&](double waves) {
    const double share = total / (slots * waves);
    std::vector<Piece> out;
    for (const Piece& c : chunks) {
      const int32_t rows = c.num_members * group;
      const double whole = o.cost.block_ns(c.kv_end, rows, o.head_dim, o.kv_dtype_bytes);
      int64_t n = static_cast<int64_t>(std::ceil(whole / std::max(share, 1.0)));
      n = std::clamp<int64_t>(n, 1, std::max<int64_t>(1, c.kv_end / o.cost.min_split_tokens));
      int64_t len = (c.kv_end + n - 1) / n;
      len = (len + kKvSplitAlign - 1) / kKvSplitAlign * kKvSplitAlign;
      for (int32_t b = 0; b < c.kv_end; b += static_cast<int32_t>(len)) {
        Piece p = c;
        p.kv_begin = b;
        p.kv_end = static_cast<int32_t>(std::min<int64_t>(c.kv_end, b + len));
        p.block_ns = o.cost.block_ns(p.kv_end - p.kv_begin, rows, o.head_dim, o.kv_dtype_bytes);
        out.push_back(p);
      }
    }
    return out;
  };
  std::vector<Piece> pieces;
  double best = 0;
  for (double waves : {1.0, 2.0, 3.0, 4.0, 6.0, 8.0}) {
    std::vector<Piece> cand = split(waves);
    sort_for_launch(cand);
    const double t = simulate_makespan(cand, o);
    if (pieces.empty() || t < best * 0.98) {  // prefer fewer pieces unless clearly faster
      best = t;
      pieces = std::move(cand);
    }
  }

  // 5. Items and state slots; the merge's CSR by query token.
  int32_t num_tokens = 0;
  for (const RequestAttention& req : requests) {
    num_tokens = std::max(num_tokens, req.first_query_token + req.num_queries);
  }
  std::vector<std::vector<int32_t>> states_of(num_tokens);
  for (const Piece& p : pieces) {
    const Unit& u = units[p.unit];
    WorkItem it;
    it.page_offset = u.page_offset;
    it.kv_begin = p.kv_begin;
    it.kv_end = p.kv_end;
    it.kv_pos_offset = u.start_pos;
    it.member_offset = p.member_offset;
    it.num_members = p.num_members;
    it.state_offset = plan.num_states;
    for (int32_t m = 0; m < p.num_members; ++m) {
      states_of[plan.member_token[p.member_offset + m]].push_back(plan.num_states + m);
    }
    plan.num_states += p.num_members;
    plan.items.push_back(it);
  }
  plan.num_query_tokens = num_tokens;
  plan.token_state_begin.reserve(num_tokens + 1);
  plan.token_state_begin.push_back(0);
  for (const auto& s : states_of) {
    plan.token_states.insert(plan.token_states.end(), s.begin(), s.end());
    plan.token_state_begin.push_back(static_cast<int32_t>(plan.token_states.size()));
  }
  plan.predicted_ns = best + o.cost.launch_fixed_ns;
  return plan;
}

}  // namespace

Result<AttentionPlan> build_attention_plan(std::span<const Segment> segments,
                                           std::span<const RequestAttention> requests,
                                           const PlanOptions& o) {
  STEMMA_RETURN_IF_ERROR(validate(segments, requests, o));
  AttentionPlan plan = build_plan(segments, requests, o);
  if (o.share_segments && o.keep_faster_plan) {
    // Sharing pays only when a group's extra rows cost less than the reads they save (one
    // request alone, or a short prefix, can plan better without it): keep the faster plan.
    PlanOptions alone = o;
    alone.share_segments = false;
    AttentionPlan base = build_plan(segments, requests, alone);
    if (base.predicted_ns < plan.predicted_ns) return base;
  }
  return plan;
}

}  // namespace stemma::attn
