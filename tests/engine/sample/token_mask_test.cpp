#include "engine/sample/token_mask.h"

#include <doctest/doctest.h>

#include <cmath>

namespace stemma {
namespace {

TEST_CASE("TokenMask allows exactly the tokens set, across word boundaries") {
  TokenMask mask(130);
  mask.allow(0);
  mask.allow(63);
  mask.allow(64);
  mask.allow(129);
  mask.allow(130);  // outside: ignored
  CHECK(mask.count() == 4);
  CHECK(mask.allowed(63));
  CHECK_FALSE(mask.allowed(62));
  CHECK_FALSE(mask.allowed(130));
  mask.disallow(63);
  CHECK_FALSE(mask.allowed(63));
  std::vector<float> logits(132, 1.0f);
  mask.apply(logits);
  for (size_t i = 0; i < logits.size(); ++i) {
    bool allowed = i == 0 || i == 64 || i == 129;
    CHECK(std::isinf(logits[i]) == !allowed);
  }
}

TEST_CASE("TokenMask allow_all covers the vocab and nothing past it") {
  TokenMask mask(70, true);
  CHECK(mask.count() == 70);
  CHECK(mask.allowed(69));
  CHECK_FALSE(mask.allowed(70));
}

}  // namespace
}  // namespace stemma
