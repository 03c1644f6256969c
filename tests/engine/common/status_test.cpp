#include "engine/api/status.h"

#include <doctest/doctest.h>

#include <memory>

namespace stemma {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return InvalidArgument("expected a positive number, got " + std::to_string(x));
  return x;
}

Result<int> doubled(int x) {
  STEMMA_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return v * 2;
}

Status check_all(int a, int b) {
  STEMMA_RETURN_IF_ERROR(parse_positive(a).status());
  STEMMA_RETURN_IF_ERROR(parse_positive(b).status());
  return OkStatus();
}

TEST_CASE("Result carries a value or a named error") {
  auto good = doubled(21);
  REQUIRE(good.ok());
  CHECK(*good == 42);

  auto bad = doubled(-3);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().to_string() == "INVALID_ARGUMENT: expected a positive number, got -3");
}

TEST_CASE("RETURN_IF_ERROR stops at the first failure") {
  CHECK(check_all(1, 2).ok());
  Status s = check_all(1, 0);
  CHECK(s.message() == "expected a positive number, got 0");
  CHECK(s.with_context("config").message() == "config: expected a positive number, got 0");
  CHECK(OkStatus().with_context("x").ok());
}

TEST_CASE("Result holds move-only values") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  REQUIRE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

}  // namespace
}  // namespace stemma
