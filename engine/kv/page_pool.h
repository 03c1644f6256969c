// A pool of fixed-size KV pages with reference counts. Pages are the unit of sharing: the radix
// tree holds one reference per page it caches and every running request holds one per page in
// its page table, so a page is free exactly when nobody can read it. Fixed-size pages mean any
// free page fits any request: there is no fragmentation to manage.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/api/status.h"

namespace stemma::kv {

class PagePool {
 public:
  explicit PagePool(int32_t num_pages);

  int32_t num_pages() const { return static_cast<int32_t>(ref_counts_.size()); }
  int32_t num_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t num_used() const { return num_pages() - num_free(); }

  // Takes `count` free pages (each with reference count 1) and appends them to `out`, or takes
  // none and returns false when fewer than `count` are free.
  bool allocate(int32_t count, std::vector<int32_t>& out);

  // Adds a reference to a page in use. Returns an error for a free or out-of-range page.
  Status retain(int32_t page);
  // Drops a reference; the page returns to the free list when its count reaches zero.
  Status release(int32_t page);

  int32_t ref_count(int32_t page) const;

 private:
  std::vector<int32_t> ref_counts_;
  std::vector<int32_t> free_;  // a stack: the most recently freed page is reused first
};

}  // namespace stemma::kv
