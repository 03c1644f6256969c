#include "engine/model/rope.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace stemma {

Result<std::vector<float>> rope_inv_freq(const ModelConfig& c, const TensorView* rope_freqs) {
  if (c.head_dim <= 0 || c.head_dim % 2 != 0)
    return InvalidArgument("rope: head_dim must be even and > 0");
  const int64_t half = c.head_dim / 2;
  // float32 throughout, in HF transformers' order of operations (modeling_rope_utils.py): its
  // tables are float32, and positions up to 4k multiply any last-bit difference of a frequency
  // into a visible angle difference. powf matches torch's float32 pow on these exponents.
  const float theta = c.rope_theta;
  const float dim = static_cast<float>(c.head_dim);
  std::vector<float> f(static_cast<size_t>(half));
  std::vector<float> pos_freqs(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    pos_freqs[i] = std::pow(theta, static_cast<float>(2 * i) / dim);
    f[i] = 1.0f / pos_freqs[i];
  }
  const RopeScaling& s = c.rope_scaling;
  if (s.type == RopeScaling::Type::kYarn) {
    // HF _compute_yarn_parameters: pairs below the beta_fast correction dim keep their
    // frequency (extrapolation), pairs above beta_slow's are divided by factor (interpolation),
    // a linear ramp blends the band between. The band edges are computed in double, as HF does.
    const double ddim = static_cast<double>(c.head_dim);
    const double base = static_cast<double>(c.rope_theta);
    const double old_ctx = static_cast<double>(s.original_max_position);
    auto correction_dim = [&](double rotations) {
      return ddim * std::log(old_ctx / (rotations * 2.0 * std::numbers::pi)) /
             (2.0 * std::log(base));
    };
    double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
    if (s.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, ddim - 1.0);
    if (low == high) high += 0.001;  // as HF: no division by zero
    const float flow = static_cast<float>(low), span = static_cast<float>(high - low);
    for (int64_t i = 0; i < half; ++i) {
      const float ramp = std::clamp((static_cast<float>(i) - flow) / span, 0.0f, 1.0f);
      const float extrapolation = 1.0f - ramp;
      const float interpolated = 1.0f / (s.factor * pos_freqs[i]);
      f[i] = interpolated * (1.0f - extrapolation) + f[i] * extrapolation;
    }
  } else if (s.type == RopeScaling::Type::kLinear) {
    for (auto& v : f) v /= s.factor;
  } else if (s.type == RopeScaling::Type::kLlama3 && !c.rope_freq_factors) {
    const float old_ctx = static_cast<float>(s.original_max_position);
    const float low_wavelen = static_cast<float>(static_cast<double>(s.original_max_position) /
                                                 static_cast<double>(s.low_freq_factor));
    const float high_wavelen = static_cast<float>(static_cast<double>(s.original_max_position) /
                                                  static_cast<double>(s.high_freq_factor));
    const float two_pi = static_cast<float>(2.0 * std::numbers::pi);
    for (auto& v : f) {
      const float wavelen = two_pi / v;
      if (wavelen > low_wavelen) {
        v /= s.factor;                         // long wavelengths: fully interpolated
      } else if (!(wavelen < high_wavelen)) {  // the band between: blend
        const float smooth =
            (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        v = (1.0f - smooth) * v / s.factor + smooth * v;
      }
    }
  }
  if (c.rope_freq_factors) {
    if (rope_freqs == nullptr) return NotFound("rope: model needs tensor 'rope_freqs.weight'");
    if (rope_freqs->dtype != DType::kF32 || rope_freqs->num_elements() != half ||
        rope_freqs->nbytes != static_cast<size_t>(half) * 4) {
      return CorruptData("rope: 'rope_freqs.weight' must be F32 with " + std::to_string(half) +
                         " elements");
    }
    for (int64_t i = 0; i < half; ++i) {
      float d;
      std::memcpy(&d, rope_freqs->data + 4 * i, 4);
      if (!(d > 0))
        return CorruptData("rope: 'rope_freqs.weight'[" + std::to_string(i) + "] is not > 0");
      f[i] /= d;
    }
  }
  return f;
}

float rope_attention_factor(const ModelConfig& c) {
  const RopeScaling& s = c.rope_scaling;
  if (s.type != RopeScaling::Type::kYarn) return 1.0f;
  if (s.attention_factor > 0) return s.attention_factor;
  auto mscale = [](double scale, double m) {
    return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0;
  };
  if (s.mscale > 0 && s.mscale_all_dim > 0) {
    return static_cast<float>(mscale(s.factor, s.mscale) / mscale(s.factor, s.mscale_all_dim));
  }
  return static_cast<float>(mscale(s.factor, 1.0));
}

std::optional<RopeScaling> llama3_scaling_from_factors(const ModelConfig& c,
                                                       const std::vector<float>& factors,
                                                       int64_t original_max_position) {
  const int64_t half = c.head_dim / 2;
  if (half <= 0 || static_cast<int64_t>(factors.size()) != half) return std::nullopt;
  double factor = 1.0;
  for (float f : factors) factor = std::max(factor, static_cast<double>(f));
  if (factor <= 1.0 + 1e-6) return std::nullopt;
  const double old_ctx = static_cast<double>(original_max_position);
  // In the blended band, s = (old_ctx / wavelen - low) / (high - low) with
  // 1 / f = (1 - s) / factor + s: a line in 1 / wavelen. Collect its points.
  std::vector<std::pair<double, double>> pts;  // (1 / wavelen, s)
  for (int64_t i = 0; i < half; ++i) {
    double f = factors[static_cast<size_t>(i)];
    if (f <= 1.0 + 1e-5 || f >= factor * (1.0 - 1e-5)) continue;
    double inv = std::pow(static_cast<double>(c.rope_theta),
                          -2.0 * static_cast<double>(i) / static_cast<double>(c.head_dim));
    double s = (1.0 / f - 1.0 / factor) / (1.0 - 1.0 / factor);
    pts.emplace_back(inv / (2.0 * std::numbers::pi), s);
  }
  RopeScaling r;
  r.type = RopeScaling::Type::kLlama3;
  r.factor = static_cast<float>(factor);
  r.original_max_position = original_max_position;
  double low = 1.0, high = 4.0;  // Llama 3.x's values; used where the band cannot tell
  if (pts.size() >= 2) {         // least-squares line s = A x + B: A = old/(h-l), B = -l/(h-l)
    double n = static_cast<double>(pts.size()), sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (auto [x, y] : pts) {
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    double det = n * sxx - sx * sx;
    if (det <= 0) return std::nullopt;
    double A = (n * sxy - sx * sy) / det, B = (sy - A * sx) / n;
    if (!(A > 0)) return std::nullopt;
    low = -B * old_ctx / A;
    high = low + old_ctx / A;
  } else if (pts.size() == 1) {  // assume low = 1 and solve for high
    auto [x, y] = pts[0];
    if (!(y > 0)) return std::nullopt;
    high = low + (old_ctx * x - low) / y;
  }
  r.low_freq_factor = static_cast<float>(low);
  r.high_freq_factor = static_cast<float>(high);
  if (!(high > low) || !(low > 0)) return std::nullopt;
  // Accept only if the parameters reproduce every factor.
  ModelConfig plain = c, scaled = c;
  plain.rope_scaling = RopeScaling{};
  plain.rope_freq_factors = scaled.rope_freq_factors = false;
  scaled.rope_scaling = r;
  auto a = rope_inv_freq(plain, nullptr), b = rope_inv_freq(scaled, nullptr);
  if (!a.ok() || !b.ok()) return std::nullopt;
  for (int64_t i = 0; i < half; ++i) {
    double want = factors[static_cast<size_t>(i)], got = (*a)[i] / (*b)[i];
    if (std::fabs(got - want) > 1e-4 * want) return std::nullopt;
  }
  return r;
}

}  // namespace stemma
