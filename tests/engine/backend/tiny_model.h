// A tiny Llama-family model with seeded random float32 weights, built in memory for tests, and
// a dense float64 reference forward pass written straight from the architecture's definition
// (no pages, no SIMD, no threads) that the executor's output is compared with.
#pragma once

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/model/model_loader.h"

namespace stemma::testing {

inline ModelConfig tiny_config(Architecture arch) {
  ModelConfig c;
  c.arch = arch;
  c.arch_name = arch == Architecture::kQwen2   ? "qwen2"
                : arch == Architecture::kQwen3 ? "qwen3"
                                               : "llama";
  c.vocab_size = 61;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.max_position = 256;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.attn_qkv_bias = arch == Architecture::kQwen2;
  c.qk_norm = arch == Architecture::kQwen3;
  c.tie_embeddings = arch == Architecture::kQwen2;
  return c;
}

// `matrix_scale`: standard deviation of the projection weights (the norms are near 1).
inline std::shared_ptr<LoadedModel> tiny_model(const ModelConfig& c, uint64_t seed,
                                               float matrix_scale = 0.2f) {
  auto m = std::make_shared<LoadedModel>();
  m->config = c;
  m->source_format = "dummy";
  std::mt19937_64 rng(seed);
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) * 4);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    float* f = reinterpret_cast<float*>(buf->data());
    for (int64_t i = 0; i < n; ++i) f[i] = offset + scale * nd(rng);
    TensorView t;
    t.name = name;
    t.dtype = DType::kF32;
    t.shape = std::move(shape);
    t.data = buf->data();
    t.nbytes = buf->size();
    m->owned.push_back(buf);
    m->tensors[name] = t;
  };
  const int64_t h = c.hidden_size, qd = c.num_heads * c.head_dim, kvd = c.num_kv_heads * c.head_dim;
  add("token_embd.weight", {c.vocab_size, h}, 1.0f, 0.0f);
  if (!c.tie_embeddings) add("output.weight", {c.vocab_size, h}, matrix_scale, 0.0f);
  add("output_norm.weight", {h}, 0.1f, 1.0f);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {h}, 0.1f, 1.0f);
    add(p + "ffn_norm.weight", {h}, 0.1f, 1.0f);
    add(p + "attn_q.weight", {qd, h}, matrix_scale, 0.0f);
    add(p + "attn_k.weight", {kvd, h}, matrix_scale, 0.0f);
    add(p + "attn_v.weight", {kvd, h}, matrix_scale, 0.0f);
    add(p + "attn_output.weight", {h, qd}, matrix_scale, 0.0f);
    add(p + "ffn_gate.weight", {c.intermediate_size, h}, matrix_scale, 0.0f);
    add(p + "ffn_up.weight", {c.intermediate_size, h}, matrix_scale, 0.0f);
    add(p + "ffn_down.weight", {h, c.intermediate_size}, matrix_scale, 0.0f);
    if (c.attn_qkv_bias) {
      add(p + "attn_q.bias", {qd}, 0.5f, 0.0f);
      add(p + "attn_k.bias", {kvd}, 0.5f, 0.0f);
      add(p + "attn_v.bias", {kvd}, 0.5f, 0.0f);
    }
    if (c.qk_norm) {
      add(p + "attn_q_norm.weight", {c.head_dim}, 0.1f, 1.0f);
      add(p + "attn_k_norm.weight", {c.head_dim}, 0.1f, 1.0f);
    }
  }
  return m;
}

// Dense float64 forward over the whole sequence; returns [tokens, vocab] logits.
inline std::vector<double> reference_logits(const LoadedModel& m,
                                            const std::vector<int32_t>& tokens) {
  const ModelConfig& c = m.config;
  const int64_t T = static_cast<int64_t>(tokens.size()), H = c.hidden_size, D = c.head_dim;
  const int64_t NH = c.num_heads, NKV = c.num_kv_heads, F = c.intermediate_size;
  auto W = [&](const std::string& n) { return reinterpret_cast<const float*>(m.find(n)->data); };
  auto linear = [](const float* w, const std::vector<double>& x, int64_t out, int64_t in) {
    std::vector<double> y(static_cast<size_t>(out));
    for (int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (int64_t i = 0; i < in; ++i)
        s += static_cast<double>(w[o * in + i]) * x[static_cast<size_t>(i)];
      y[static_cast<size_t>(o)] = s;
    }
    return y;
  };
  auto norm = [&](std::vector<double> x, const float* w, size_t off, int64_t n) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i)
      ss += x[off + static_cast<size_t>(i)] * x[off + static_cast<size_t>(i)];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + c.rms_norm_eps);
    for (int64_t i = 0; i < n; ++i) x[off + static_cast<size_t>(i)] *= inv * w[i];
    return x;
  };
  auto inv_freq = [&](int64_t i) {
    double f = 1.0 / std::pow(static_cast<double>(c.rope_theta),
                              2.0 * static_cast<double>(i) / static_cast<double>(D));
    const RopeScaling& rs = c.rope_scaling;
    if (rs.type == RopeScaling::Type::kLinear) f /= rs.factor;
    if (rs.type == RopeScaling::Type::kLlama3) {
      const double wl = 2 * M_PI / f, lo = rs.original_max_position / rs.low_freq_factor;
      const double hi = rs.original_max_position / rs.high_freq_factor;
      if (wl > lo) {
        f /= rs.factor;
      } else if (wl >= hi) {
        const double s = (rs.original_max_position / wl - rs.low_freq_factor) /
                         (rs.high_freq_factor - rs.low_freq_factor);
        f = (1 - s) * f / rs.factor + s * f;
      }
    }
    return f;
  };
  auto rope = [&](std::vector<double>& v, size_t off, int64_t pos) {
    for (int64_t i = 0; i < D / 2; ++i) {
      const double a = static_cast<double>(pos) * inv_freq(i);
      const size_t p0 = off + static_cast<size_t>(c.rope_interleaved ? 2 * i : i);
      const size_t p1 = off + static_cast<size_t>(c.rope_interleaved ? 2 * i + 1 : i + D / 2);
      const double x0 = v[p0], x1 = v[p1];
      v[p0] = x0 * std::cos(a) - x1 * std::sin(a);
      v[p1] = x1 * std::cos(a) + x0 * std::sin(a);
    }
  };
  std::vector<std::vector<double>> x(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const float* e = W("token_embd.weight") + tokens[static_cast<size_t>(t)] * H;
    x[static_cast<size_t>(t)].assign(e, e + H);
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    std::vector<std::vector<double>> q(static_cast<size_t>(T)), k(q.size()), v(q.size());
    for (int64_t t = 0; t < T; ++t) {
      const auto xn = norm(x[static_cast<size_t>(t)], W(p + "attn_norm.weight"), 0, H);
      auto& qt = q[static_cast<size_t>(t)] = linear(W(p + "attn_q.weight"), xn, NH * D, H);
      auto& kt = k[static_cast<size_t>(t)] = linear(W(p + "attn_k.weight"), xn, NKV * D, H);
      auto& vt = v[static_cast<size_t>(t)] = linear(W(p + "attn_v.weight"), xn, NKV * D, H);
      if (c.attn_qkv_bias) {
        for (int64_t i = 0; i < NH * D; ++i) qt[static_cast<size_t>(i)] += W(p + "attn_q.bias")[i];
        for (int64_t i = 0; i < NKV * D; ++i) kt[static_cast<size_t>(i)] += W(p + "attn_k.bias")[i];
        for (int64_t i = 0; i < NKV * D; ++i) vt[static_cast<size_t>(i)] += W(p + "attn_v.bias")[i];
      }
      for (int64_t hh = 0; hh < NH; ++hh) {
        if (c.qk_norm) qt = norm(qt, W(p + "attn_q_norm.weight"), static_cast<size_t>(hh * D), D);
        rope(qt, static_cast<size_t>(hh * D), t);
      }
      for (int64_t hh = 0; hh < NKV; ++hh) {
        if (c.qk_norm) kt = norm(kt, W(p + "attn_k_norm.weight"), static_cast<size_t>(hh * D), D);
        rope(kt, static_cast<size_t>(hh * D), t);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> att(static_cast<size_t>(NH * D), 0.0);
      for (int64_t hh = 0; hh < NH; ++hh) {
        const int64_t kh = hh / (NH / NKV);
        std::vector<double> s(static_cast<size_t>(t + 1));
        double mx = -1e300;
        for (int64_t j = 0; j <= t; ++j) {
          double d = 0;
          for (int64_t i = 0; i < D; ++i)
            d += q[static_cast<size_t>(t)][static_cast<size_t>(hh * D + i)] *
                 k[static_cast<size_t>(j)][static_cast<size_t>(kh * D + i)];
          s[static_cast<size_t>(j)] = d / std::sqrt(static_cast<double>(D));
          mx = std::max(mx, s[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (auto& e : s) sum += (e = std::exp(e - mx));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t i = 0; i < D; ++i)
            att[static_cast<size_t>(hh * D + i)] +=
                s[static_cast<size_t>(j)] / sum *
                v[static_cast<size_t>(j)][static_cast<size_t>(kh * D + i)];
      }
      const auto o = linear(W(p + "attn_output.weight"), att, H, NH * D);
      for (int64_t i = 0; i < H; ++i)
        x[static_cast<size_t>(t)][static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
      const auto xn = norm(x[static_cast<size_t>(t)], W(p + "ffn_norm.weight"), 0, H);
      auto g = linear(W(p + "ffn_gate.weight"), xn, F, H);
      const auto u = linear(W(p + "ffn_up.weight"), xn, F, H);
      for (int64_t i = 0; i < F; ++i)
        g[static_cast<size_t>(i)] = g[static_cast<size_t>(i)] /
                                    (1 + std::exp(-g[static_cast<size_t>(i)])) *
                                    u[static_cast<size_t>(i)];
      const auto d = linear(W(p + "ffn_down.weight"), g, H, F);
      for (int64_t i = 0; i < H; ++i)
        x[static_cast<size_t>(t)][static_cast<size_t>(i)] += d[static_cast<size_t>(i)];
    }
  }
  std::vector<double> out;
  const float* ow = W(c.tie_embeddings ? "token_embd.weight" : "output.weight");
  for (int64_t t = 0; t < T; ++t) {
    const auto xn = norm(x[static_cast<size_t>(t)], W("output_norm.weight"), 0, H);
    const auto lg = linear(ow, xn, c.vocab_size, H);
    out.insert(out.end(), lg.begin(), lg.end());
  }
  return out;
}

}  // namespace stemma::testing
