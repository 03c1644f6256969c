// The benchmark workloads through the Engine on the mock executor: the radix cache must reach
// (nearly) the best hit rate possible for the order the calls were submitted in.
#include <doctest/doctest.h>

#include "bench/workloads/workload_runner.h"
#include "engine/engine_internal.h"
#include "mock_executor.h"

namespace stemma::bench {
namespace {

std::unique_ptr<Engine> open_mock(bool cache, int32_t num_pages) {
  EngineOptions o;
  o.radix_cache = cache;
  auto e = internal::open_engine(
      o, {.executor = std::make_shared<stemma::testing::MockExecutor>(1000, 16, num_pages)});
  REQUIRE(e.ok());
  return std::move(e).value();
}

TEST_CASE("best_possible_hit_rate counts the longest earlier computed prefix") {
  std::vector<std::vector<int32_t>> prompts{{1, 2, 3, 4}, {1, 2, 3, 5}, {1, 2, 3, 4, 6}};
  std::vector<std::vector<int32_t>> computed{{1, 2, 3, 4, 9}, {1, 2, 3, 5}, {}};
  // call 1: 3 of 4 ("1 2 3"); call 2: 4 of 5 ("1 2 3 4"); call 0: nothing before it.
  CHECK(best_possible_hit_rate(prompts, computed) == doctest::Approx(7.0 / 13.0));
}

TEST_CASE("make_workload refuses unknown names") {
  auto w = make_workload("nope", 10, 1000, 1);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().find("few_shot") != std::string::npos);
}

TEST_CASE("every workload reaches the best possible hit rate on a roomy cache") {
  for (const auto& name : workload_names()) {
    CAPTURE(name);
    auto w = make_workload(name, 40, 1000, 7);
    REQUIRE(w.ok());
    auto on_engine = open_mock(true, 4096);
    auto on = run_workload(*on_engine, *w, 16);
    REQUIRE(on.ok());
    auto off_engine = open_mock(false, 4096);
    auto off = run_workload(*off_engine, *w, 16);
    REQUIRE(off.ok());
    MESSAGE(name << ": hit " << on->hit_rate << " best " << on->best_hit_rate << " prefill on "
                 << on->stats.prefill_tokens << " off " << off->stats.prefill_tokens);
    CHECK(on->requests == static_cast<int64_t>(w->num_calls()));
    CHECK(on->generated_tokens == off->generated_tokens);
    CHECK(off->hit_rate == 0.0);
    CHECK(on->best_hit_rate > 0.3);
    // Copy-on-write of partly matching pages and cached tails make matching token-granular.
    CHECK(on->hit_rate >= on->best_hit_rate - 0.02);
    CHECK(on->hit_rate <= on->best_hit_rate + 1e-9);
  }
}

}  // namespace
}  // namespace stemma::bench
