#include "engine/sample/sampler.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace stemma {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::vector<float> random_logits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Plain reference of the filtered distribution: full softmax, sort, cut, renormalize.
std::map<int32_t, double> reference(const std::vector<float>& logits, double t, int k, double p,
                                    double min_p) {
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  if (k > 0 && static_cast<size_t>(k) < order.size()) order.resize(static_cast<size_t>(k));
  std::vector<double> probs;
  double z = 0;
  for (int32_t i : order) z += std::exp(logits[i] / t);
  for (int32_t i : order) probs.push_back(std::exp(logits[i] / t) / z);
  size_t keep = order.size();
  double acc = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    acc += probs[i];
    if (acc >= p) {
      keep = i + 1;
      break;
    }
  }
  size_t n = 1;
  while (n < keep && probs[n] >= min_p * probs[0]) ++n;
  keep = n;
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += probs[i];
  std::map<int32_t, double> out;
  for (size_t i = 0; i < keep; ++i) out[order[i]] = probs[i] / kept;
  return out;
}

// Draws `n` tokens and checks every frequency against the reference within 5 standard errors.
void check_distribution(const std::vector<float>& logits, SamplingOptions opt, int n) {
  auto expect = reference(logits, opt.temperature, opt.top_k, opt.top_p, opt.min_p);
  Sampler sampler(opt, static_cast<int64_t>(logits.size()));
  std::map<int32_t, int> seen;
  for (int i = 0; i < n; ++i) {
    auto row = logits;
    auto s = sampler.sample(row, {}, {});
    REQUIRE(s.ok());
    ++seen[s->token];
  }
  for (const auto& [token, count] : seen) {
    INFO("token " << token);
    REQUIRE(expect.count(token) == 1);  // never a filtered-out token
  }
  for (const auto& [token, p] : expect) {
    double freq = static_cast<double>(seen[token]) / n;
    double se = std::sqrt(p * (1 - p) / n) + 1e-9;
    INFO("token " << token << " p " << p << " freq " << freq);
    CHECK(std::abs(freq - p) <= 5 * se + 1e-3);
  }
}

TEST_CASE("candidate_distribution matches the reference for top-k, top-p, min-p combinations") {
  auto logits = random_logits(50, 7);
  for (double t : {0.5, 1.0, 1.7}) {
    for (int k : {0, 1, 5, 49}) {
      for (double p : {1.0, 0.9, 0.3}) {
        for (double mp : {0.0, 0.05, 0.5}) {
          auto got = sampling::candidate_distribution(
              logits, static_cast<float>(t), k, static_cast<float>(p), static_cast<float>(mp));
          auto want = reference(logits, t, k, p, mp);
          REQUIRE(got.size() == want.size());
          for (const auto& [token, prob] : got) {
            REQUIRE(want.count(token) == 1);
            CHECK(prob == doctest::Approx(want[token]).epsilon(1e-5));
          }
        }
      }
    }
  }
}

TEST_CASE("sample_from picks what a walk over candidate_distribution picks") {
  std::mt19937_64 rng(5);
  int checked = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    auto logits = random_logits(seed % 3 == 0 ? 3000 : 40, seed);
    if (seed % 4 == 0) {
      for (size_t i = 0; i < logits.size(); i += 3) logits[i] = kNegInf;  // a mask
      logits[5] = logits[6];                                              // a tie
    }
    for (double t : {0.7, 1.0, 1.9}) {
      for (int k : {0, 1, 7}) {
        for (double p : {1.0, 0.8, 0.2}) {
          for (double mp : {0.0, 0.02, 0.4}) {
            auto dist = sampling::candidate_distribution(
                logits, static_cast<float>(t), k, static_cast<float>(p), static_cast<float>(mp));
            for (int draw = 0; draw < 20; ++draw) {
              const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
              // The walk the sampler used to do, and how close u is to a boundary.
              double rest = u, edge = 1.0;
              int32_t want = dist.back().first;
              for (const auto& [token, prob] : dist) {
                edge = std::min(edge, std::abs(rest - prob));
                if (rest < prob) {
                  want = token;
                  break;
                }
                rest -= prob;
              }
              const int32_t got =
                  sampling::sample_from(logits, static_cast<float>(t), k, static_cast<float>(p),
                                        static_cast<float>(mp), u);
              if (edge > 1e-6) {
                CHECK(got == want);
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  CHECK(checked > 15000);
  std::vector<float> none(4, kNegInf);
  CHECK(sampling::sample_from(none, 1.0f, 0, 1.0f, 0.0f, 0.5) == -1);
}

TEST_CASE("seeded sampling follows the filtered distribution") {
  auto logits = random_logits(12, 3);
  SamplingOptions opt;
  opt.seed = 42;
  opt.temperature = 1.0f;  // the default is greedy
  SUBCASE("plain temperature") {
    opt.temperature = 1.0f;
  }
  SUBCASE("hot with top-k") {
    opt.temperature = 2.0f;
    opt.top_k = 4;
  }
  SUBCASE("top-p") {
    opt.top_p = 0.7f;
  }
  SUBCASE("min-p") {
    opt.min_p = 0.1f;
  }
  check_distribution(logits, opt, 20000);
}

TEST_CASE("top-p and min-p edge cases keep the likeliest token") {
  std::vector<float> logits{1.0f, 3.0f, 2.0f, 3.0f};  // a tie at the top: lowest id first
  auto tiny_p = sampling::candidate_distribution(logits, 1.0f, 0, 1e-6f, 0.0f);
  REQUIRE(tiny_p.size() == 1);
  CHECK(tiny_p[0].first == 1);
  CHECK(tiny_p[0].second == doctest::Approx(1.0));
  auto full_min_p = sampling::candidate_distribution(logits, 1.0f, 0, 1.0f, 1.0f);
  // min_p = 1 keeps everything as likely as the top: both tied tokens.
  REQUIRE(full_min_p.size() == 2);
  CHECK(full_min_p[0].first == 1);
  CHECK(full_min_p[1].first == 3);
  std::vector<float> masked{kNegInf, kNegInf, 0.5f};
  auto one = sampling::candidate_distribution(masked, 1.0f, 0, 0.5f, 0.0f);
  REQUIRE(one.size() == 1);
  CHECK(one[0].first == 2);
  std::vector<float> none{kNegInf, kNegInf};
  CHECK(sampling::candidate_distribution(none, 1.0f, 0, 1.0f, 0.0f).empty());
}

TEST_CASE("greedy picks the argmax with ties to the lowest id") {
  SamplingOptions opt;
  opt.temperature = 0.0f;
  Sampler sampler(opt, 5);
  std::vector<float> logits{0.0f, 2.0f, -1.0f, 2.0f, 1.0f};
  auto s = sampler.sample(logits, {}, {});
  REQUIRE(s.ok());
  CHECK(s->token == 1);
}

TEST_CASE("the same seed gives the same tokens; another seed differs") {
  auto logits = random_logits(64, 11);
  auto draw = [&](uint64_t seed) {
    SamplingOptions opt;
    opt.temperature = 1.0f;  // a draw (the default is greedy)
    opt.seed = seed;
    Sampler sampler(opt, 64);
    std::vector<int32_t> out;
    for (int i = 0; i < 200; ++i) {
      auto row = logits;
      out.push_back(sampler.sample(row, {}, {})->token);
    }
    return out;
  };
  CHECK(draw(5) == draw(5));
  CHECK(draw(5) != draw(6));
}

TEST_CASE("logit bias, penalties and the logits processor change the choice") {
  std::vector<float> base{1.0f, 0.9f, 0.8f, -0.5f};
  SamplingOptions opt;
  opt.temperature = 0.0f;
  SUBCASE("bias") {
    opt.logit_bias = {{2, 0.5f}};
    Sampler s(opt, 4);
    auto row = base;
    CHECK(s.sample(row, {}, {})->token == 2);
  }
  SUBCASE("frequency penalty counts repeats") {
    opt.frequency_penalty = 0.06f;
    Sampler s(opt, 4);
    std::vector<int32_t> gen{0, 0};  // 1.0 - 0.12 < 0.9
    auto row = base;
    CHECK(s.sample(row, {}, gen)->token == 1);
    CHECK(row[0] == doctest::Approx(1.0f - 0.12f));
  }
  SUBCASE("presence penalty is flat") {
    opt.presence_penalty = 0.25f;  // 0.75, 0.65 vs 0.8
    Sampler s(opt, 4);
    std::vector<int32_t> gen{0, 0, 0, 1};
    auto row = base;
    CHECK(s.sample(row, {}, gen)->token == 2);
  }
  SUBCASE("repetition penalty covers the prompt and divides positive logits") {
    opt.repetition_penalty = 2.0f;
    Sampler s(opt, 4);
    std::vector<int32_t> prompt{0, 3};
    auto row = base;
    CHECK(s.sample(row, prompt, {})->token == 1);
    CHECK(row[0] == doctest::Approx(0.5f));
    CHECK(row[3] == doctest::Approx(-1.0f));  // negative logits are multiplied
  }
  SUBCASE("logits processor masks tokens and sees the generated ones") {
    std::vector<size_t> seen_sizes;
    opt.logits_processor = std::make_shared<FunctionLogitsProcessor>(
        [&](std::span<const int32_t> gen, std::span<float> logits) {
          seen_sizes.push_back(gen.size());
          logits[0] = kNegInf;
          return OkStatus();
        });
    Sampler s(opt, 4);
    std::vector<int32_t> gen{2, 2, 2};
    auto row = base;
    CHECK(s.sample(row, {}, gen)->token == 1);
    CHECK(seen_sizes == std::vector<size_t>{3});
  }
  SUBCASE("a processor that disallows everything is an error, not a crash") {
    opt.logits_processor = std::make_shared<FunctionLogitsProcessor>(
        [](std::span<const int32_t>, std::span<float> logits) {
          std::fill(logits.begin(), logits.end(), kNegInf);
          return OkStatus();
        });
    Sampler s(opt, 4);
    auto row = base;
    CHECK_FALSE(s.sample(row, {}, {}).ok());
  }
}

TEST_CASE("logprobs are the log-softmax of the raw logits at the chosen token") {
  std::vector<float> base{2.0f, 1.0f, 0.0f};
  SamplingOptions opt;
  opt.temperature = 0.0f;
  opt.logprobs = true;
  opt.logit_bias = {{2, 5.0f}};  // the choice changes, the reported logprob stays raw
  Sampler s(opt, 3);
  auto row = base;
  auto r = s.sample(row, {}, {});
  REQUIRE(r.ok());
  CHECK(r->token == 2);
  double z = std::exp(2.0) + std::exp(1.0) + std::exp(0.0);
  CHECK(r->logprob == doctest::Approx(std::log(std::exp(0.0) / z)));
}

TEST_CASE("the sampler chain holds the stages the options call for, in pipeline order") {
  SamplingOptions opt;
  CHECK(Sampler(opt, 4).stage_names() == std::vector<std::string>{"constraint_mask"});
  opt.logit_bias = {{1, 1.0f}};
  opt.presence_penalty = 0.5f;
  opt.logits_processor = std::make_shared<FunctionLogitsProcessor>(
      [](std::span<const int32_t>, std::span<float>) { return OkStatus(); });
  CHECK(Sampler(opt, 4).stage_names() ==
        std::vector<std::string>{"logit_bias", "penalties", "hook", "constraint_mask"});
}

TEST_CASE("validate names bad options") {
  SamplingOptions opt;
  opt.top_p = 0.0f;
  CHECK(opt.validate(10).message().find("top_p") != std::string::npos);
  opt = {};
  opt.stop_token_ids = {10};
  CHECK(opt.validate(10).message().find("stop token 10") != std::string::npos);
  opt = {};
  opt.logit_bias = {{-1, 1.0f}};
  CHECK_FALSE(opt.validate(10).ok());
  opt = {};
  opt.max_tokens = 0;
  CHECK_FALSE(opt.validate(10).ok());
  CHECK(SamplingOptions{}.validate(10).ok());
}

TEST_CASE("logit_bias = +inf forces its token at any temperature and filter") {
  // Issue 15 item 16: at temperature 1 a +inf logit made every weight NaN (inf - inf) and the
  // token was never sampled.
  const auto logits = random_logits(50, 3);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (float t : {0.0f, 0.7f, 1.0f, 2.0f}) {
    for (int k : {0, 3}) {
      for (float p : {1.0f, 0.5f}) {
        SamplingOptions opt;
        opt.temperature = t;
        opt.top_k = k;
        opt.top_p = p;
        opt.min_p = k == 3 ? 0.1f : 0.0f;
        opt.seed = 9;
        opt.logit_bias = {{41, kInf}};
        Sampler s(opt, 50);
        for (int i = 0; i < 50; ++i) {
          auto row = logits;
          auto got = s.sample(row, {}, {});
          REQUIRE(got.ok());
          CHECK(got->token == 41);
        }
      }
    }
  }
  // Two forced tokens share the draws; nothing else is picked.
  SamplingOptions opt;
  opt.temperature = 1.0f;
  opt.logit_bias = {{4, kInf}, {30, kInf}};
  Sampler s(opt, 50);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 400; ++i) {
    auto row = logits;
    ++seen[s.sample(row, {}, {})->token];
  }
  CHECK(seen.size() == 2);
  CHECK(seen[4] > 100);
  CHECK(seen[30] > 100);
  auto row = logits;
  row[4] = kInf;
  row[30] = kInf;
  const auto dist = sampling::candidate_distribution(row, 1.0f, 0, 1.0f, 0.0f);
  REQUIRE(dist.size() == 2);
  CHECK(dist[0].second == doctest::Approx(0.5));
  CHECK(dist[1].second == doctest::Approx(0.5));
}

}  // namespace
}  // namespace stemma
