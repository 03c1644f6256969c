#include "engine/sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace stemma {
namespace sampling {

int32_t argmax(std::span<const float> logits) {
  int32_t best = -1;
  float best_value = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > best_value) {  // NaN and -inf never win
      best_value = logits[i];
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

float log_softmax_at(std::span<const float> logits, int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= logits.size()) {
    return -std::numeric_limits<float>::infinity();
  }
  float max_value = -std::numeric_limits<float>::infinity();
  for (float v : logits) max_value = std::max(max_value, v);
  if (!std::isfinite(max_value)) return -std::numeric_limits<float>::infinity();
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - max_value);
  return static_cast<float>(static_cast<double>(logits[token]) - max_value - std::log(sum));
}

std::vector<std::pair<int32_t, float>> candidate_distribution(std::span<const float> logits,
                                                              float temperature, int32_t top_k,
                                                              float top_p, float min_p) {
  std::vector<std::pair<int32_t, float>> cand;
  cand.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > -std::numeric_limits<float>::infinity()) {  // skips -inf and NaN
      cand.emplace_back(static_cast<int32_t>(i), logits[i]);
    }
  }
  if (cand.empty()) return cand;
  const float inf = std::numeric_limits<float>::infinity();
  if (std::any_of(cand.begin(), cand.end(), [&](const auto& c) { return c.second == inf; })) {
    std::erase_if(cand, [&](const auto& c) { return c.second != inf; });  // as sample_from
  }
  auto by_value = [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  if (top_k > 0 && static_cast<size_t>(top_k) < cand.size()) {
    std::nth_element(cand.begin(), cand.begin() + top_k, cand.end(), by_value);
    cand.resize(static_cast<size_t>(top_k));
  }
  std::sort(cand.begin(), cand.end(), by_value);
  // Softmax with temperature (in double: many small terms).
  const double inv_t = temperature > 0.0f ? 1.0 / temperature : 1.0;
  const double top = cand.front().second;
  std::vector<double> p(cand.size());
  double sum = 0.0;
  for (size_t i = 0; i < cand.size(); ++i) {
    // +inf candidates (all that is left when there are any) weigh 1 each.
    p[i] = cand[i].second == top ? 1.0 : std::exp((cand[i].second - top) * inv_t);
    sum += p[i];
  }
  for (double& v : p) v /= sum;
  size_t keep = cand.size();
  if (top_p < 1.0f) {
    // Smallest prefix whose mass reaches top_p; the token that crosses the line is kept.
    double mass = 0.0;
    for (size_t i = 0; i < cand.size(); ++i) {
      mass += p[i];
      if (mass >= top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (min_p > 0.0f) {
    const double floor = min_p * p[0];
    size_t n = 1;
    while (n < keep && p[n] >= floor) ++n;
    keep = n;
  }
  double kept = 0.0;
  for (size_t i = 0; i < keep; ++i) kept += p[i];
  std::vector<std::pair<int32_t, float>> out(keep);
  for (size_t i = 0; i < keep; ++i) out[i] = {cand[i].first, static_cast<float>(p[i] / kept)};
  return out;
}

namespace {

struct Weighted {
  int32_t token;
  float logit;
  double w;  // unnormalised probability
};

// Distribution order: likelier first, ties by lower id (a strict total order).
bool before(const Weighted& a, const Weighted& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.token < b.token);
}

// In distribution order over v, the first element whose cumulative mass reaches `target`
// (>= when `inclusive`, > otherwise); v is reordered so that everything before it in that order
// sits at [0, returned index). Quickselect on mass: expected linear time.
size_t select_by_mass(std::vector<Weighted>& v, double target, bool inclusive) {
  size_t lo = 0, hi = v.size();  // the answer is in [lo, hi)
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  while (hi - lo > 1) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const size_t pick = lo + static_cast<size_t>((state >> 33) % (hi - lo));
    std::swap(v[pick], v[hi - 1]);
    const Weighted pivot = v[hi - 1];
    size_t mid = lo;
    double mass = 0.0;
    for (size_t i = lo; i + 1 < hi; ++i) {
      if (before(v[i], pivot)) {
        mass += v[i].w;
        std::swap(v[i], v[mid++]);
      }
    }
    std::swap(v[mid], v[hi - 1]);  // pivot at mid; [lo, mid) before it, (mid, hi) after it
    const bool in_upper = inclusive ? mass >= target : mass > target;
    if (in_upper && mid > lo) {
      hi = mid;
      continue;
    }
    const bool at_pivot = inclusive ? mass + pivot.w >= target : mass + pivot.w > target;
    if (at_pivot || mid + 1 >= hi) return mid;
    target -= mass + pivot.w;
    lo = mid + 1;
  }
  return lo;
}

}  // namespace

int32_t sample_from(std::span<const float> logits, float temperature, int32_t top_k, float top_p,
                    float min_p, double u) {
  std::vector<Weighted> cand;
  float top = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > -std::numeric_limits<float>::infinity()) {  // skips -inf and NaN
      cand.push_back({static_cast<int32_t>(i), logits[i], 0.0});
      top = std::max(top, logits[i]);
    }
  }
  if (cand.empty()) return -1;
  if (top == std::numeric_limits<float>::infinity()) {
    // A +inf logit (logit_bias = +inf forces a token) outweighs every finite one: the choice is
    // among the +inf tokens alone, uniformly (inf - inf would make every weight NaN).
    std::erase_if(cand, [&](const Weighted& c) { return c.logit != top; });
    const size_t pick =
        std::min(cand.size() - 1, static_cast<size_t>(u * static_cast<double>(cand.size())));
    return cand[pick].token;
  }
  if (top_k > 0 && static_cast<size_t>(top_k) < cand.size()) {
    std::nth_element(cand.begin(), cand.begin() + top_k, cand.end(), before);
    cand.resize(static_cast<size_t>(top_k));
  }
  const double inv_t = temperature > 0.0f ? 1.0 / temperature : 1.0;
  double total = 0.0;
  for (Weighted& c : cand) {
    c.w = std::exp((static_cast<double>(c.logit) - top) * inv_t);
    total += c.w;
  }
  size_t keep = cand.size();
  if (top_p < 1.0f) keep = select_by_mass(cand, top_p * total, true) + 1;  // [0, keep) kept
  if (min_p > 0.0f) {
    // The likeliest token has w = 1; min-p keeps w >= min_p (a prefix of the order as well).
    size_t n = 0;
    for (size_t i = 0; i < keep; ++i) {
      if (cand[i].w >= min_p || cand[i].logit == top) cand[n++] = cand[i];
    }
    keep = n;
  }
  cand.resize(keep);
  double kept = 0.0;
  for (const Weighted& c : cand) kept += c.w;
  return cand[select_by_mass(cand, u * kept, false)].token;
}

}  // namespace sampling

Sampler::Sampler(SamplingOptions options, int64_t vocab_size)
    : options_(std::move(options)), vocab_size_(vocab_size), rng_(options_.seed) {
  const SamplingOptions& o = options_;
  if (!o.logit_bias.empty()) stages_.push_back(std::make_unique<LogitBiasStage>(o.logit_bias));
  if (o.repetition_penalty != 1.0f || o.frequency_penalty != 0.0f || o.presence_penalty != 0.0f) {
    stages_.push_back(std::make_unique<PenaltiesStage>(o.repetition_penalty, o.frequency_penalty,
                                                       o.presence_penalty));
  }
  if (o.logits_processor) stages_.push_back(std::make_unique<HookStage>(o.logits_processor));
  stages_.push_back(std::make_unique<ConstraintMaskStage>());
}

bool Sampler::plain_greedy() const {
  // stages_ always ends with the constraint mask stage, a no-op without a mask.
  return options_.temperature <= 0.0f && !options_.logprobs && stages_.size() == 1;
}

std::vector<std::string> Sampler::stage_names() const {
  std::vector<std::string> names;
  for (const auto& s : stages_) names.emplace_back(s->name());
  return names;
}

double Sampler::uniform() {
  // 53 random bits -> [0, 1); std::uniform_real_distribution is not the same on every library.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

Result<SampledToken> Sampler::sample(std::span<float> logits, std::span<const int32_t> prompt,
                                     std::span<const int32_t> generated,
                                     const constrain::TokenMask* mask) {
  if (static_cast<int64_t>(logits.size()) != vocab_size_) {
    return Internal("sampler got " + std::to_string(logits.size()) + " logits for a vocab of " +
                    std::to_string(vocab_size_));
  }
  SampledToken out;
  std::vector<float> raw;
  if (options_.logprobs) raw.assign(logits.begin(), logits.end());
  const StageInput in{prompt, generated, mask};
  for (const auto& stage : stages_) STEMMA_RETURN_IF_ERROR(stage->apply(in, logits));
  if (options_.temperature <= 0.0f) {
    out.token = sampling::argmax(logits);
  } else {
    out.token = sampling::sample_from(logits, options_.temperature, options_.top_k, options_.top_p,
                                      options_.min_p, uniform());
  }
  if (out.token < 0) {
    return FailedPrecondition("no token is allowed: every logit is -inf or NaN after processing");
  }
  if (options_.logprobs) out.logprob = sampling::log_softmax_at(raw, out.token);
  return out;
}

}  // namespace stemma
