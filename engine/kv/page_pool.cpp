#include "engine/kv/page_pool.h"

#include <string>

namespace stemma::kv {

PagePool::PagePool(int32_t num_pages) : ref_counts_(num_pages > 0 ? num_pages : 0, 0) {
  free_.reserve(ref_counts_.size());
  // Push in reverse so that pages are handed out in increasing order on a fresh pool.
  for (int32_t p = num_pages - 1; p >= 0; --p) free_.push_back(p);
}

bool PagePool::allocate(int32_t count, std::vector<int32_t>& out) {
  if (count < 0 || count > num_free()) return false;
  for (int32_t i = 0; i < count; ++i) {
    int32_t page = free_.back();
    free_.pop_back();
    ref_counts_[page] = 1;
    out.push_back(page);
  }
  return true;
}

Status PagePool::retain(int32_t page) {
  if (page < 0 || page >= num_pages()) {
    return OutOfRange("page " + std::to_string(page) + " is outside the pool of " +
                      std::to_string(num_pages()) + " pages");
  }
  if (ref_counts_[page] == 0) {
    return Internal("retain of free page " + std::to_string(page));
  }
  ++ref_counts_[page];
  return OkStatus();
}

Status PagePool::release(int32_t page) {
  if (page < 0 || page >= num_pages()) {
    return OutOfRange("page " + std::to_string(page) + " is outside the pool of " +
                      std::to_string(num_pages()) + " pages");
  }
  if (ref_counts_[page] == 0) {
    return Internal("release of free page " + std::to_string(page));
  }
  if (--ref_counts_[page] == 0) free_.push_back(page);
  return OkStatus();
}

int32_t PagePool::ref_count(int32_t page) const {
  if (page < 0 || page >= num_pages()) return 0;
  return ref_counts_[page];
}

}  // namespace stemma::kv
