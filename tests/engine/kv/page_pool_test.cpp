#include "engine/kv/page_pool.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

namespace stemma::kv {
namespace {

TEST_CASE("PagePool hands out distinct pages and refuses what it lacks") {
  PagePool pool(4);
  std::vector<int32_t> pages;
  REQUIRE(pool.allocate(3, pages));
  CHECK(pages.size() == 3);
  CHECK(std::set<int32_t>(pages.begin(), pages.end()).size() == 3);
  CHECK(pool.num_free() == 1);
  CHECK_FALSE(pool.allocate(2, pages));  // all or nothing
  CHECK(pages.size() == 3);
  CHECK(pool.num_free() == 1);
  for (int32_t p : pages) CHECK(pool.ref_count(p) == 1);
}

TEST_CASE("PagePool frees a page only when its last reference goes") {
  PagePool pool(2);
  std::vector<int32_t> pages;
  REQUIRE(pool.allocate(1, pages));
  int32_t p = pages[0];
  REQUIRE(pool.retain(p).ok());
  CHECK(pool.ref_count(p) == 2);
  REQUIRE(pool.release(p).ok());
  CHECK(pool.num_free() == 1);
  REQUIRE(pool.release(p).ok());
  CHECK(pool.num_free() == 2);
  CHECK(pool.ref_count(p) == 0);
}

TEST_CASE("PagePool reports misuse instead of corrupting its counts") {
  PagePool pool(2);
  CHECK(pool.release(0).code() == StatusCode::kInternal);  // free page
  CHECK(pool.retain(1).code() == StatusCode::kInternal);
  CHECK(pool.retain(7).code() == StatusCode::kOutOfRange);
  CHECK(pool.release(-1).code() == StatusCode::kOutOfRange);
  CHECK(pool.num_free() == 2);
}

TEST_CASE("PagePool reuses freed pages with no fragmentation") {
  PagePool pool(8);
  std::vector<int32_t> a;
  std::vector<int32_t> b;
  REQUIRE(pool.allocate(4, a));
  REQUIRE(pool.allocate(4, b));
  for (size_t i = 0; i < a.size(); i += 2) REQUIRE(pool.release(a[i]).ok());
  for (size_t i = 0; i < b.size(); i += 2) REQUIRE(pool.release(b[i]).ok());
  std::vector<int32_t> c;
  CHECK(pool.allocate(4, c));  // scattered free pages serve any request
  CHECK(pool.num_free() == 0);
}

}  // namespace
}  // namespace stemma::kv
