// A radix tree over token ids whose nodes own KV pages (SGLang's RadixAttention, page-granular).
//
// Granularity choice: every node holds a whole number of pages, so its token run is a multiple of
// the page size and nodes split only at page boundaries. A page therefore belongs to exactly one
// node and is never half-owned. Matching is still token-granular: when a query agrees with a
// cached page on only its first k < page_size tokens, match() reports that page and k, and the
// caller copies those k slots into a fresh page of its own (copy-on-write through
// ModelExecutor::copy_page) before it computes the rest. Running sequences insert full pages
// only (their last page is still being written); a finished sequence also leaves its partly
// filled last page as a "tail" leaf, so that the next turn of a conversation can copy it.
//
// References: the tree holds one pool reference per page it caches. lock(node) marks the path
// root..node as in use (a request reading those pages); evict() frees least recently used
// unlocked leaves. Node pointers stay valid while locked: a split keeps the original node as the
// lower half so that a holder's pointer still names the same tokens' end.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "engine/api/status.h"
#include "engine/kv/page_pool.h"

namespace stemma::kv {

class RadixTree {
 public:
  struct Node {
    Node* parent = nullptr;
    std::vector<int32_t> tokens;  // pages.size() * page_size tokens
    std::vector<int32_t> pages;
    std::map<std::vector<int32_t>, std::unique_ptr<Node>> children;  // by first page of tokens
    int32_t lock_count = 0;  // locks on this node or any descendant
    // A tail: a leaf holding one partly filled page (fewer than page_size tokens), the end of
    // a finished sequence. It is only ever copied from (copy-on-write), never extended or
    // locked, so its unused slots are never written.
    bool tail = false;
    uint64_t last_access = 0;
  };

  struct Match {
    Node* node = nullptr;        // deepest node matched in full (the root when nothing matched)
    std::vector<int32_t> pages;  // cached pages for the first pages.size() * page_size tokens
    int32_t partial_page = -1;   // a cached page whose first `partial_tokens` slots also match
    int32_t partial_tokens = 0;  // 0 when no cached page continues the match
  };

  struct Insertion {
    Node* node = nullptr;        // the node that ends the inserted run
    std::vector<int32_t> pages;  // the tree's pages for the run (some may differ from the input)
    int32_t new_pages = 0;       // pages the tree did not hold before
  };

  RadixTree(PagePool& pool, int32_t page_size);
  ~RadixTree();
  RadixTree(const RadixTree&) = delete;
  RadixTree& operator=(const RadixTree&) = delete;

  int32_t page_size() const { return page_size_; }
  Node* root() { return &root_; }

  // Longest cached prefix of `tokens`. Splits a node whose pages are only partly matched so that
  // the match ends on a node boundary (the returned node can be locked alone).
  Match match(std::span<const int32_t> tokens);
  // Length in tokens of the longest cached prefix (token-granular), without changing the tree.
  int32_t match_length(std::span<const int32_t> tokens) const;

  // Caches `pages` as the KV of `tokens` (tokens.size() == pages.size() * page_size). Where the
  // tree already holds a run, it keeps its own pages and returns them: their contents are the
  // same (same tokens at the same positions), and the caller may switch to them to share.
  Result<Insertion> insert(std::span<const int32_t> tokens, std::span<const int32_t> pages);

  // Caches the partly filled last page of a finished sequence: `tokens` is the whole
  // sequence (its full pages must be cached already), `page` holds its last
  // tokens.size() % page_size positions. Returns false (taking nothing) when the full pages are
  // not in the tree or the same tail is.
  Result<bool> insert_tail(std::span<const int32_t> tokens, int32_t page);

  void lock(Node* node);
  void unlock(Node* node);

  // Evicts least recently used unlocked leaves until `num_pages` pages went back to the free
  // list or nothing evictable is left. Returns the number of pages freed.
  int32_t evict(int32_t num_pages);

  int32_t num_cached_pages() const { return cached_pages_; }
  // Pages held by the tree in unlocked nodes (what evict() could drop).
  int32_t num_evictable_pages() const { return evictable_pages_; }
  int64_t num_evicted_pages() const { return evicted_pages_; }
  // Every page the tree holds (for leak checks in tests).
  std::vector<int32_t> cached_pages() const;

  // Checks the structure (page counts, keys, lock counts, pool references). For tests.
  Status check_invariants() const;

 private:
  // Splits `node` after its first `num_pages` pages; returns the new upper node.
  Node* split(Node* node, int32_t num_pages);
  // Number of leading pages of `node` that equal tokens[pos...].
  int32_t matching_pages(const Node& node, std::span<const int32_t> tokens, size_t pos) const;
  void touch(Node* node);
  void release_subtree(Node& node);
  Status check_node(const Node& node, int32_t& cached, int32_t& evictable) const;

  PagePool& pool_;
  int32_t page_size_;
  Node root_;
  uint64_t clock_ = 0;
  int32_t cached_pages_ = 0;
  int32_t evictable_pages_ = 0;
  int64_t evicted_pages_ = 0;
};

}  // namespace stemma::kv
