#include "engine/kv/radix_tree.h"

#include <algorithm>
#include <queue>
#include <string>

namespace stemma::kv {
namespace {

std::vector<int32_t> first_page(std::span<const int32_t> tokens, size_t pos, int32_t page_size) {
  return std::vector<int32_t>(tokens.begin() + static_cast<ptrdiff_t>(pos),
                              tokens.begin() + static_cast<ptrdiff_t>(pos + page_size));
}

// A node's key in its parent's map: its first page of tokens (all of a tail's tokens).
std::vector<int32_t> key_of(const RadixTree::Node& node, int32_t page_size) {
  return first_page(node.tokens, 0, std::min(page_size, static_cast<int32_t>(node.tokens.size())));
}

}  // namespace

RadixTree::RadixTree(PagePool& pool, int32_t page_size)
    : pool_(pool), page_size_(page_size > 0 ? page_size : 1) {}

RadixTree::~RadixTree() {
  release_subtree(root_);
}

void RadixTree::release_subtree(Node& node) {
  for (auto& [key, child] : node.children) release_subtree(*child);
  for (int32_t page : node.pages) (void)pool_.release(page);
  node.pages.clear();
  node.children.clear();
}

void RadixTree::touch(Node* node) {
  uint64_t now = ++clock_;
  for (; node != nullptr; node = node->parent) node->last_access = now;
}

int32_t RadixTree::matching_pages(const Node& node, std::span<const int32_t> tokens,
                                  size_t pos) const {
  int32_t n = 0;
  const int32_t node_pages = static_cast<int32_t>(node.pages.size());
  while (n < node_pages && pos + static_cast<size_t>(n + 1) * page_size_ <= tokens.size()) {
    auto theirs = node.tokens.begin() + static_cast<ptrdiff_t>(n) * page_size_;
    auto ours = tokens.begin() + static_cast<ptrdiff_t>(pos + static_cast<size_t>(n) * page_size_);
    if (!std::equal(theirs, theirs + page_size_, ours)) break;
    ++n;
  }
  return n;
}

RadixTree::Node* RadixTree::split(Node* node, int32_t num_pages) {
  Node* parent = node->parent;
  auto key = first_page(node->tokens, 0, page_size_);
  auto upper = std::make_unique<Node>();
  Node* up = upper.get();
  const auto cut = static_cast<ptrdiff_t>(num_pages) * page_size_;
  up->parent = parent;
  up->tokens.assign(node->tokens.begin(), node->tokens.begin() + cut);
  up->pages.assign(node->pages.begin(), node->pages.begin() + num_pages);
  up->lock_count = node->lock_count;  // every lock below passes through the upper half too
  up->last_access = node->last_access;
  node->tokens.erase(node->tokens.begin(), node->tokens.begin() + cut);
  node->pages.erase(node->pages.begin(), node->pages.begin() + num_pages);
  // Move the original node (pointers to it stay valid) under the new upper node.
  auto& slot = parent->children[key];
  std::unique_ptr<Node> lower = std::move(slot);
  lower->parent = up;
  up->children[first_page(lower->tokens, 0, page_size_)] = std::move(lower);
  slot = std::move(upper);
  return up;
}

RadixTree::Match RadixTree::match(std::span<const int32_t> tokens) {
  Match m;
  Node* node = &root_;
  size_t pos = 0;
  while (tokens.size() - pos >= static_cast<size_t>(page_size_)) {
    auto it = node->children.find(first_page(tokens, pos, page_size_));
    if (it == node->children.end()) break;
    Node* child = it->second.get();
    int32_t n = matching_pages(*child, tokens, pos);
    if (n < static_cast<int32_t>(child->pages.size())) child = split(child, n);
    m.pages.insert(m.pages.end(), child->pages.begin(), child->pages.end());
    pos += static_cast<size_t>(n) * page_size_;
    node = child;
  }
  m.node = node;
  touch(node);
  // Token-granular tail: the child whose first page agrees longest with the next tokens.
  const size_t rest = std::min(tokens.size() - pos, static_cast<size_t>(page_size_));
  for (const auto& [key, child] : node->children) {
    size_t k = 0;
    while (k < rest && k < key.size() && key[k] == tokens[pos + k]) ++k;
    if (static_cast<int32_t>(k) > m.partial_tokens) {
      m.partial_tokens = static_cast<int32_t>(k);
      m.partial_page = child->pages.front();
    }
  }
  if (m.partial_tokens >= page_size_) {  // cannot happen (a full page would have matched)
    m.partial_tokens = 0;
    m.partial_page = -1;
  }
  return m;
}

int32_t RadixTree::match_length(std::span<const int32_t> tokens) const {
  const Node* node = &root_;
  size_t pos = 0;
  while (true) {
    const size_t rest = std::min(tokens.size() - pos, static_cast<size_t>(page_size_));
    const Node* next = nullptr;
    size_t best = 0;
    if (rest == static_cast<size_t>(page_size_)) {
      auto it = node->children.find(first_page(tokens, pos, page_size_));
      if (it != node->children.end()) next = it->second.get();
    }
    if (next == nullptr) {
      for (const auto& [key, child] : node->children) {
        size_t k = 0;
        while (k < rest && k < key.size() && key[k] == tokens[pos + k]) ++k;
        best = std::max(best, k);
      }
      return static_cast<int32_t>(pos + best);
    }
    const int32_t n = matching_pages(*next, tokens, pos);
    pos += static_cast<size_t>(n) * page_size_;
    if (n < static_cast<int32_t>(next->pages.size())) {
      // Token-granular tail inside the node's next page.
      const size_t r = std::min(tokens.size() - pos, static_cast<size_t>(page_size_));
      size_t k = 0;
      auto theirs = next->tokens.begin() + static_cast<ptrdiff_t>(n) * page_size_;
      while (k < r && theirs[static_cast<ptrdiff_t>(k)] == tokens[pos + k]) ++k;
      return static_cast<int32_t>(pos + k);
    }
    node = next;
  }
}

std::vector<int32_t> RadixTree::cached_pages() const {
  std::vector<int32_t> out;
  std::vector<const Node*> stack{&root_};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    out.insert(out.end(), n->pages.begin(), n->pages.end());
    for (const auto& [key, child] : n->children) stack.push_back(child.get());
  }
  return out;
}

Result<RadixTree::Insertion> RadixTree::insert(std::span<const int32_t> tokens,
                                               std::span<const int32_t> pages) {
  if (tokens.size() != pages.size() * static_cast<size_t>(page_size_)) {
    return InvalidArgument("radix insert: " + std::to_string(tokens.size()) + " tokens for " +
                           std::to_string(pages.size()) + " pages of " +
                           std::to_string(page_size_));
  }
  Insertion ins;
  Node* node = &root_;
  size_t pos = 0;
  size_t page_index = 0;
  while (page_index < pages.size()) {
    auto key = first_page(tokens, pos, page_size_);
    auto it = node->children.find(key);
    if (it == node->children.end()) {
      auto leaf = std::make_unique<Node>();
      leaf->parent = node;
      leaf->tokens.assign(tokens.begin() + static_cast<ptrdiff_t>(pos), tokens.end());
      leaf->pages.assign(pages.begin() + static_cast<ptrdiff_t>(page_index), pages.end());
      for (int32_t page : leaf->pages) {
        Status s = pool_.retain(page);
        if (!s.ok()) {
          // Undo the references taken so far; the tree stays as it was.
          for (int32_t p : leaf->pages) {
            if (p == page) break;
            (void)pool_.release(p);
          }
          return s.with_context("radix insert");
        }
      }
      const auto added = static_cast<int32_t>(leaf->pages.size());
      cached_pages_ += added;
      evictable_pages_ += added;  // a new leaf carries no locks
      ins.new_pages = added;
      ins.pages.insert(ins.pages.end(), leaf->pages.begin(), leaf->pages.end());
      node = leaf.get();
      node->parent->children[std::move(key)] = std::move(leaf);
      break;
    }
    Node* child = it->second.get();
    int32_t n = matching_pages(*child, tokens, pos);
    if (n < static_cast<int32_t>(child->pages.size())) child = split(child, n);
    ins.pages.insert(ins.pages.end(), child->pages.begin(), child->pages.end());
    pos += static_cast<size_t>(n) * page_size_;
    page_index += static_cast<size_t>(n);
    node = child;
  }
  ins.node = node;
  touch(node);
  return ins;
}

Result<bool> RadixTree::insert_tail(std::span<const int32_t> tokens, int32_t page) {
  const size_t full = tokens.size() / static_cast<size_t>(page_size_);
  const size_t rest = tokens.size() % static_cast<size_t>(page_size_);
  if (rest == 0) return InvalidArgument("radix insert_tail: no partial page in the tokens");
  Node* node = &root_;
  size_t pos = 0;
  while (pos < full * static_cast<size_t>(page_size_)) {
    auto it = node->children.find(first_page(tokens, pos, page_size_));
    if (it == node->children.end()) return false;  // the full pages are not (or no more) cached
    Node* child = it->second.get();
    const int32_t n = matching_pages(*child, tokens, pos);
    if (n == 0) return false;
    if (n < static_cast<int32_t>(child->pages.size())) {
      if (pos + static_cast<size_t>(n) * page_size_ < full * static_cast<size_t>(page_size_)) {
        return false;
      }
      child = split(child, n);
    }
    pos += static_cast<size_t>(n) * page_size_;
    node = child;
  }
  std::vector<int32_t> key(tokens.begin() + static_cast<ptrdiff_t>(pos), tokens.end());
  auto it = node->children.find(key);
  if (it != node->children.end()) {
    touch(it->second.get());
    return false;  // the same tail is already cached
  }
  STEMMA_RETURN_IF_ERROR(pool_.retain(page).with_context("radix insert_tail"));
  auto leaf = std::make_unique<Node>();
  leaf->parent = node;
  leaf->tail = true;
  leaf->tokens = key;
  leaf->pages = {page};
  cached_pages_ += 1;
  evictable_pages_ += 1;
  Node* raw = leaf.get();
  node->children[std::move(key)] = std::move(leaf);
  touch(raw);
  return true;
}

void RadixTree::lock(Node* node) {
  for (; node != nullptr && node != &root_; node = node->parent) {
    if (node->lock_count++ == 0) evictable_pages_ -= static_cast<int32_t>(node->pages.size());
  }
}

void RadixTree::unlock(Node* node) {
  for (; node != nullptr && node != &root_; node = node->parent) {
    if (node->lock_count <= 0) continue;  // unbalanced unlock: ignore rather than corrupt
    if (--node->lock_count == 0) evictable_pages_ += static_cast<int32_t>(node->pages.size());
  }
}

int32_t RadixTree::evict(int32_t num_pages) {
  auto older = [](const Node* a, const Node* b) { return a->last_access > b->last_access; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(older)> leaves(older);
  std::vector<Node*> stack{&root_};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n != &root_ && n->children.empty() && n->lock_count == 0) leaves.push(n);
    for (auto& [key, child] : n->children) stack.push_back(child.get());
  }
  int32_t freed = 0;
  while (freed < num_pages && !leaves.empty()) {
    Node* leaf = leaves.top();
    leaves.pop();
    for (int32_t page : leaf->pages) {
      if (pool_.ref_count(page) == 1) ++freed;
      (void)pool_.release(page);
    }
    const auto dropped = static_cast<int32_t>(leaf->pages.size());
    cached_pages_ -= dropped;
    evictable_pages_ -= dropped;
    evicted_pages_ += dropped;
    Node* parent = leaf->parent;
    parent->children.erase(key_of(*leaf, page_size_));  // destroys leaf
    if (parent != &root_ && parent->children.empty() && parent->lock_count == 0) {
      leaves.push(parent);
    }
  }
  return freed;
}

Status RadixTree::check_node(const Node& node, int32_t& cached, int32_t& evictable) const {
  if (node.tail) {
    if (node.pages.size() != 1 || node.tokens.empty() ||
        node.tokens.size() >= static_cast<size_t>(page_size_) || !node.children.empty()) {
      return Internal("radix tail node with " + std::to_string(node.tokens.size()) + " tokens");
    }
  } else if (node.tokens.size() != node.pages.size() * static_cast<size_t>(page_size_)) {
    return Internal("radix node with " + std::to_string(node.tokens.size()) + " tokens and " +
                    std::to_string(node.pages.size()) + " pages");
  }
  if (&node != &root_ && node.pages.empty()) return Internal("radix node without pages");
  cached += static_cast<int32_t>(node.pages.size());
  if (node.lock_count == 0) evictable += static_cast<int32_t>(node.pages.size());
  for (int32_t page : node.pages) {
    if (pool_.ref_count(page) < 1) {
      return Internal("radix node holds free page " + std::to_string(page));
    }
  }
  int32_t child_locks = 0;
  for (const auto& [key, child] : node.children) {
    if (child->parent != &node) return Internal("radix child with a wrong parent");
    if (key != key_of(*child, page_size_)) return Internal("radix key mismatch");
    child_locks += child->lock_count;
    STEMMA_RETURN_IF_ERROR(check_node(*child, cached, evictable));
  }
  if (&node != &root_ && node.lock_count < child_locks) {
    return Internal("radix node locked less than its children");
  }
  return OkStatus();
}

Status RadixTree::check_invariants() const {
  int32_t cached = 0;
  int32_t evictable = 0;
  STEMMA_RETURN_IF_ERROR(check_node(root_, cached, evictable));
  if (cached != cached_pages_) {
    return Internal("radix cached page count " + std::to_string(cached_pages_) +
                    " != " + std::to_string(cached));
  }
  if (evictable != evictable_pages_) {
    return Internal("radix evictable page count " + std::to_string(evictable_pages_) +
                    " != " + std::to_string(evictable));
  }
  return OkStatus();
}

}  // namespace stemma::kv
