#include "engine/attn/shared_pages.h"

#include <algorithm>
#include <numeric>

namespace stemma::attn {

BatchSegments group_shared_pages(std::span<const SequencePages> seqs, int32_t page_size) {
  BatchSegments out;
  out.requests.resize(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    out.requests[i].first_query_token = seqs[i].first_query_token;
    out.requests[i].num_queries = seqs[i].num_queries;
  }
  auto full_pages = [&](size_t i) { return seqs[i].kv_len / page_size; };
  auto add_segment = [&](size_t owner, int32_t first_page, int32_t num_tokens,
                         std::span<const size_t> readers) {
    if (num_tokens <= 0) return;
    Segment s;
    s.id = static_cast<int32_t>(out.segments.size());
    const int64_t n = (num_tokens + page_size - 1) / page_size;
    s.pages = seqs[owner].pages.subspan(static_cast<size_t>(first_page), static_cast<size_t>(n));
    s.num_tokens = num_tokens;
    out.segments.push_back(s);
    for (size_t r : readers) out.requests[r].path.push_back(s.id);
  };

  // Depth-first over a trie of page ids, with an explicit stack: a group of sequences that
  // agree on pages [0, depth) and an open segment starting at page `start`.
  struct Group {
    std::vector<size_t> members;
    int32_t start = 0;
    int32_t depth = 0;
  };
  std::vector<Group> stack;
  Group all;
  all.members.resize(seqs.size());
  std::iota(all.members.begin(), all.members.end(), size_t{0});
  if (!all.members.empty()) stack.push_back(std::move(all));
  while (!stack.empty()) {
    Group g = std::move(stack.back());
    stack.pop_back();
    if (g.members.size() == 1) {  // alone from here: the rest is one private segment
      const size_t r = g.members[0];
      add_segment(r, g.start, seqs[r].kv_len - g.start * page_size, g.members);
      continue;
    }
    // Fast path: every member has a full page here and it is the same one (the open segment
    // grows; no sort). Runs of shared prefix pages cost one comparison per member and page.
    {
      const size_t first = g.members[0];
      bool same = full_pages(first) > g.depth;
      for (size_t k = 1; same && k < g.members.size(); ++k) {
        const size_t r = g.members[k];
        same = full_pages(r) > g.depth && seqs[r].pages[static_cast<size_t>(g.depth)] ==
                                              seqs[first].pages[static_cast<size_t>(g.depth)];
      }
      if (same) {
        ++g.depth;
        stack.push_back(std::move(g));
        continue;
      }
    }
    // Members whose full pages end here stop sharing; the others split by their next page.
    std::vector<size_t> ended, going;
    for (size_t r : g.members) (full_pages(r) > g.depth ? going : ended).push_back(r);
    std::stable_sort(going.begin(), going.end(), [&](size_t a, size_t b) {
      return seqs[a].pages[static_cast<size_t>(g.depth)] <
             seqs[b].pages[static_cast<size_t>(g.depth)];
    });
    // The group diverges: close the shared run [start, depth), then recurse per branch.
    add_segment(g.members[0], g.start, (g.depth - g.start) * page_size, g.members);
    for (size_t r : ended) {
      const std::vector<size_t> one{r};
      add_segment(r, g.depth, seqs[r].kv_len - g.depth * page_size, one);
    }
    for (size_t i = 0; i < going.size();) {
      size_t j = i;
      const int32_t page = seqs[going[i]].pages[static_cast<size_t>(g.depth)];
      Group child;
      child.start = child.depth = g.depth;
      while (j < going.size() && seqs[going[j]].pages[static_cast<size_t>(g.depth)] == page)
        child.members.push_back(going[j++]);
      stack.push_back(std::move(child));
      i = j;
    }
  }
  return out;
}

}  // namespace stemma::attn
