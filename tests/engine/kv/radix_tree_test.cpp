#include "engine/kv/radix_tree.h"

#include <doctest/doctest.h>

#include <map>
#include <random>

namespace stemma::kv {
namespace {

constexpr int32_t kPage = 4;

// A request's private pages for `tokens` (full pages only), as the scheduler would hold them.
std::vector<int32_t> take_pages(PagePool& pool, size_t num_tokens) {
  std::vector<int32_t> pages;
  REQUIRE(pool.allocate(static_cast<int32_t>(num_tokens / kPage), pages));
  return pages;
}

void drop_pages(PagePool& pool, const std::vector<int32_t>& pages) {
  for (int32_t p : pages) REQUIRE(pool.release(p).ok());
}

std::vector<int32_t> seq(std::initializer_list<int32_t> t) {
  return t;
}

TEST_CASE("RadixTree matches nothing when empty") {
  PagePool pool(8);
  RadixTree tree(pool, kPage);
  auto m = tree.match(seq({1, 2, 3, 4, 5}));
  CHECK(m.pages.empty());
  CHECK(m.partial_tokens == 0);
  CHECK(m.node == tree.root());
}

TEST_CASE("RadixTree insert then match returns the same pages, token-granular tail included") {
  PagePool pool(16);
  RadixTree tree(pool, kPage);
  auto tokens = seq({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto pages = take_pages(pool, tokens.size());
  auto ins = tree.insert(tokens, pages);
  REQUIRE(ins.ok());
  CHECK(ins->pages == pages);
  CHECK(ins->new_pages == 3);
  for (int32_t p : pages) CHECK(pool.ref_count(p) == 2);  // request + tree
  drop_pages(pool, pages);

  // Shares 2 full pages and 2 tokens of the third.
  auto m = tree.match(seq({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99, 98}));
  CHECK(m.pages == std::vector<int32_t>{pages[0], pages[1]});
  CHECK(m.partial_page == pages[2]);
  CHECK(m.partial_tokens == 2);
  REQUIRE(tree.check_invariants().ok());

  // A query that stops inside a page matches only what it has.
  auto short_m = tree.match(seq({1, 2, 3}));
  CHECK(short_m.pages.empty());
  CHECK(short_m.partial_page == pages[0]);
  CHECK(short_m.partial_tokens == 3);
}

TEST_CASE("RadixTree splits a node where a second sequence diverges") {
  PagePool pool(16);
  RadixTree tree(pool, kPage);
  auto a = seq({1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  auto b = seq({1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4});
  auto pa = take_pages(pool, a.size());
  REQUIRE(tree.insert(a, pa).ok());
  auto pb = take_pages(pool, b.size());
  auto ins = tree.insert(b, pb);
  REQUIRE(ins.ok());
  // The shared two pages stay the tree's (a's); only b's last page is new.
  CHECK(ins->pages == std::vector<int32_t>{pa[0], pa[1], pb[2]});
  CHECK(ins->new_pages == 1);
  CHECK(tree.num_cached_pages() == 4);
  REQUIRE(tree.check_invariants().ok());
  auto m = tree.match(b);
  CHECK(m.pages == ins->pages);
  drop_pages(pool, pa);
  drop_pages(pool, pb);
  // b's first two private pages are free again; the tree holds 4.
  CHECK(pool.num_used() == 4);
}

TEST_CASE("RadixTree locks keep nodes from eviction and eviction is LRU over leaves") {
  PagePool pool(16);
  RadixTree tree(pool, kPage);
  auto a = seq({1, 1, 1, 1, 5, 5, 5, 5});
  auto b = seq({1, 1, 1, 1, 6, 6, 6, 6});
  auto c = seq({7, 7, 7, 7});
  for (const auto& s : {a, b, c}) {
    auto p = take_pages(pool, s.size());
    REQUIRE(tree.insert(s, p).ok());
    drop_pages(pool, p);
  }
  CHECK(tree.num_cached_pages() == 4);
  CHECK(tree.num_evictable_pages() == 4);

  auto ma = tree.match(a);  // a is now the most recently used
  tree.lock(ma.node);
  CHECK(tree.num_evictable_pages() == 2);  // a's two pages (shared page included) are locked
  REQUIRE(tree.check_invariants().ok());

  // Oldest unlocked leaf first: b (inserted before c, not touched since).
  CHECK(tree.evict(1) == 1);
  CHECK(tree.match(b).pages.size() == 1);  // only the shared page is left of b
  CHECK(tree.match(c).pages.size() == 1);
  // Evict everything evictable: a stays whole.
  CHECK(tree.evict(100) == 1);
  CHECK(tree.match(a).pages == ma.pages);
  CHECK(tree.num_evicted_pages() == 2);
  REQUIRE(tree.check_invariants().ok());

  tree.unlock(ma.node);
  CHECK(tree.num_evictable_pages() == 2);
  CHECK(tree.evict(100) == 2);
  CHECK(tree.num_cached_pages() == 0);
  CHECK(pool.num_used() == 0);
}

TEST_CASE("RadixTree eviction does not free pages a request still holds") {
  PagePool pool(8);
  RadixTree tree(pool, kPage);
  auto a = seq({3, 3, 3, 3});
  auto p = take_pages(pool, a.size());
  REQUIRE(tree.insert(a, p).ok());
  CHECK(tree.evict(1) == 0);  // dropped from the tree, but the request's reference remains
  CHECK(pool.ref_count(p[0]) == 1);
  CHECK(tree.num_cached_pages() == 0);
  drop_pages(pool, p);
  CHECK(pool.num_used() == 0);
}

TEST_CASE("RadixTree keeps a locked node's pointer valid across a split") {
  PagePool pool(16);
  RadixTree tree(pool, kPage);
  auto a = seq({1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  auto p = take_pages(pool, a.size());
  auto ins = tree.insert(a, p);
  REQUIRE(ins.ok());
  tree.lock(ins->node);
  // A shorter match splits the node in the middle; the locked node keeps the tail.
  auto m = tree.match(seq({1, 1, 1, 1, 2, 2, 2, 2, 9}));
  CHECK(m.pages.size() == 2);
  REQUIRE(tree.check_invariants().ok());
  CHECK(tree.num_evictable_pages() == 0);
  tree.unlock(ins->node);
  CHECK(tree.num_evictable_pages() == 3);
  REQUIRE(tree.check_invariants().ok());
  drop_pages(pool, p);
}

TEST_CASE("RadixTree insert rejects a token count that is not whole pages") {
  PagePool pool(4);
  RadixTree tree(pool, kPage);
  std::vector<int32_t> pages{0};
  CHECK(tree.insert(seq({1, 2, 3}), pages).status().code() == StatusCode::kInvalidArgument);
}

// Against a brute-force model: the match of a query is the longest common prefix with any
// inserted sequence (cut to its whole pages), and the pages returned hold exactly those tokens.
TEST_CASE("RadixTree randomized match equals brute-force longest common prefix") {
  std::mt19937 rng(1234);
  PagePool pool(4096);
  RadixTree tree(pool, kPage);
  std::map<int32_t, std::vector<int32_t>> page_tokens;  // what each cached page holds
  std::vector<std::vector<int32_t>> inserted;
  auto random_seq = [&]() {
    std::vector<int32_t> s;
    // Sequences drawn from a small family so that prefixes are shared often.
    size_t base = rng() % 4;
    size_t len = 1 + rng() % 30;
    for (size_t i = 0; i < len; ++i) {
      s.push_back(static_cast<int32_t>(rng() % 5 == 0 ? rng() % 3 : (base + i) % 3));
    }
    return s;
  };
  for (int iter = 0; iter < 1500; ++iter) {
    auto q = random_seq();
    size_t best = 0;
    for (const auto& s : inserted) {
      size_t k = 0;
      while (k < s.size() && k < q.size() && s[k] == q[k]) ++k;
      best = std::max(best, k);
    }
    REQUIRE(static_cast<size_t>(tree.match_length(q)) == best);
    auto m = tree.match(q);
    size_t got = m.pages.size() * kPage + static_cast<size_t>(m.partial_tokens);
    REQUIRE(got == best);
    for (size_t i = 0; i < m.pages.size(); ++i) {
      std::vector<int32_t> expect(q.begin() + static_cast<ptrdiff_t>(i * kPage),
                                  q.begin() + static_cast<ptrdiff_t>((i + 1) * kPage));
      REQUIRE(page_tokens[m.pages[i]] == expect);
    }
    if (m.partial_tokens > 0) {
      const auto& held = page_tokens[m.partial_page];
      for (int32_t k = 0; k < m.partial_tokens; ++k) {
        REQUIRE(held[k] == q[m.pages.size() * kPage + static_cast<size_t>(k)]);
      }
    }
    // Insert the query's whole pages with fresh pages, as a finished request would.
    size_t whole = q.size() / kPage * kPage;
    std::vector<int32_t> tokens(q.begin(), q.begin() + static_cast<ptrdiff_t>(whole));
    auto pages = take_pages(pool, whole);
    for (size_t i = 0; i < pages.size(); ++i) {
      page_tokens[pages[i]] =
          std::vector<int32_t>(tokens.begin() + static_cast<ptrdiff_t>(i * kPage),
                               tokens.begin() + static_cast<ptrdiff_t>((i + 1) * kPage));
    }
    auto ins = tree.insert(tokens, pages);
    REQUIRE(ins.ok());
    drop_pages(pool, pages);
    inserted.push_back(tokens);
    if (iter % 100 == 0) REQUIRE(tree.check_invariants().ok());
  }
  REQUIRE(tree.check_invariants().ok());
  CHECK(pool.num_used() == tree.num_cached_pages());
  CHECK(tree.cached_pages().size() == static_cast<size_t>(tree.num_cached_pages()));
}

}  // namespace
}  // namespace stemma::kv

namespace stemma::kv {
namespace {

TEST_CASE("RadixTree tail pages serve token-granular matches and are evicted like leaves") {
  PagePool pool(16);
  RadixTree tree(pool, 4);
  std::vector<int32_t> seq{1, 2, 3, 4, 5, 6};  // one full page + a tail of 2
  std::vector<int32_t> pages;
  REQUIRE(pool.allocate(2, pages));
  REQUIRE(tree.insert(std::span<const int32_t>(seq.data(), 4), std::span(pages.data(), 1)).ok());
  auto added = tree.insert_tail(seq, pages[1]);
  REQUIRE(added.ok());
  CHECK(*added);
  CHECK_FALSE(*tree.insert_tail(seq, pages[1]));  // already there
  REQUIRE(tree.check_invariants().ok());
  for (int32_t p : pages) REQUIRE(pool.release(p).ok());
  CHECK(pool.num_used() == 2);  // the tree keeps both

  std::vector<int32_t> next{1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(tree.match_length(next) == 6);
  auto m = tree.match(next);
  CHECK(m.pages == std::vector<int32_t>{pages[0]});
  CHECK(m.partial_page == pages[1]);
  CHECK(m.partial_tokens == 2);
  // A longer full page under the same parent does not disturb the tail.
  std::vector<int32_t> longer{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<int32_t> lp;
  REQUIRE(pool.allocate(2, lp));
  REQUIRE(tree.insert(longer, lp).ok());
  for (int32_t p : lp) REQUIRE(pool.release(p).ok());
  REQUIRE(tree.check_invariants().ok());
  CHECK(tree.match_length(next) == 8);
  // The tail's parent is missing: nothing is taken.
  std::vector<int32_t> orphan{9, 9, 9, 9, 9};
  std::vector<int32_t> op;
  REQUIRE(pool.allocate(1, op));
  CHECK_FALSE(*tree.insert_tail(orphan, op[0]));
  REQUIRE(pool.release(op[0]).ok());
  CHECK(tree.evict(100) == 3);
  CHECK(pool.num_used() == 0);
  REQUIRE(tree.check_invariants().ok());
}

}  // namespace
}  // namespace stemma::kv
