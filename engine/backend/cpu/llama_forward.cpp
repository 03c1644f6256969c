#include "engine/backend/cpu/llama_forward.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace stemma::cpu {

LlamaForward::LlamaForward(const ModelConfig& config, LlamaWeights weights,
                           const KernelTable& kernels)
    : config_(config),
      w_(std::move(weights)),
      kernels_(kernels),
      rope_(config, w_.rope_inv_freq, w_.rope_attention_factor) {}

Status LlamaForward::validate(std::span<const SequenceStep> batch, const KvPool& kv) const {
  const KvCacheShape& s = kv.shape();
  for (size_t b = 0; b < batch.size(); ++b) {
    const SequenceStep& step = batch[b];
    const std::string where = "batch entry " + std::to_string(b);
    if (step.tokens.empty()) return InvalidArgument(where + ": no tokens");
    if (step.past_len < 0) return InvalidArgument(where + ": negative past_len");
    for (size_t i = 0; i < step.tokens.size(); ++i) {
      if (step.tokens[i] < 0 || step.tokens[i] >= config_.vocab_size) {
        return OutOfRange(where + ": token " + std::to_string(step.tokens[i]) + " at index " +
                          std::to_string(i) + " is outside the vocabulary of " +
                          std::to_string(config_.vocab_size));
      }
    }
    const int64_t total = step.past_len + static_cast<int64_t>(step.tokens.size());
    if (static_cast<int64_t>(step.pages.size()) * s.page_size < total) {
      return OutOfRange(where + ": " + std::to_string(step.pages.size()) + " pages of " +
                        std::to_string(s.page_size) + " slots cannot hold " +
                        std::to_string(total) + " positions");
    }
    const size_t used = static_cast<size_t>((total + s.page_size - 1) / s.page_size);
    for (size_t i = 0; i < used; ++i) {
      if (step.pages[i] < 0 || step.pages[i] >= s.num_pages) {
        return OutOfRange(where + ": page id " + std::to_string(step.pages[i]) +
                          " is outside the pool of " + std::to_string(s.num_pages));
      }
    }
  }
  return OkStatus();
}

namespace {

Status interrupted_step(int64_t layer, int64_t num_layers) {
  return Cancelled("step interrupted (a request in it was cancelled) at layer " +
                   std::to_string(layer) + " of " + std::to_string(num_layers));
}

}  // namespace

Status LlamaForward::run(std::span<const SequenceStep> batch, ThreadPool& pool, KvPool& kv,
                         std::vector<float>& logits, const std::atomic<bool>* interrupt) {
  auto raised = [interrupt] {
    return interrupt != nullptr && interrupt->load(std::memory_order_relaxed);
  };
  const KvCacheShape& s = kv.shape();
  if (s.num_layers != config_.num_layers || s.num_kv_heads != config_.num_kv_heads ||
      s.head_dim != config_.head_dim || s.page_size <= 0) {
    return FailedPrecondition("KV pool shape does not match the model");
  }
  STEMMA_RETURN_IF_ERROR(validate(batch, kv));
  batch_ = batch;
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, hd = c.head_dim;
  const int64_t qd = c.num_heads * hd, kvd = c.num_kv_heads * hd, ff = c.intermediate_size;

  tok_seq_.clear();
  tok_pos_.clear();
  std::vector<int32_t> tokens;
  std::vector<int64_t> logit_rows;  // flattened token indices whose logits are returned
  for (size_t b = 0; b < batch.size(); ++b) {
    const SequenceStep& step = batch[b];
    for (size_t i = 0; i < step.tokens.size(); ++i) {
      if (step.all_logits || i + 1 == step.tokens.size())
        logit_rows.push_back(static_cast<int64_t>(tokens.size()));
      tokens.push_back(step.tokens[i]);
      tok_seq_.push_back(static_cast<int32_t>(b));
      tok_pos_.push_back(step.past_len + static_cast<int64_t>(i));
    }
  }
  const int64_t t = static_cast<int64_t>(tokens.size());
  auto sized = [](std::vector<float>& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
    return v.data();
  };
  float* x = sized(x_, t * h);
  float* xn = sized(xn_, t * std::max(h, qd));
  float* q = sized(q_, t * qd);
  float* k = sized(k_, t * kvd);
  float* v = sized(v_, t * kvd);
  float* att = sized(attn_, t * qd);
  float* gate = sized(gate_, t * ff);
  float* up = sized(up_, t * ff);

  for (int64_t i = 0; i < t; ++i) {
    dequantize_row(w_.token_embd.dtype, w_.token_embd.row(tokens[static_cast<size_t>(i)]), h,
                   x + i * h);
  }

  for (int64_t l = 0; l < c.num_layers; ++l) {
    // Once per layer here; inside a layer the pool skips the tasks left of its loops.
    if (raised()) return interrupted_step(l, c.num_layers);
    const LlamaLayerWeights& L = w_.layers[static_cast<size_t>(l)];
    for (int64_t i = 0; i < t; ++i)
      rms_norm(x + i * h, L.attn_norm.data(), h, c.rms_norm_eps, xn + i * h);
    const MatmulOutput qkv[3] = {{&L.q, q, qd}, {&L.k, k, kvd}, {&L.v, v, kvd}};
    matmul_multi(pool, kernels_, qkv, xn, t, h, scratch_);
    // Bias, q/k norm and rope per token and head; then K/V go to their page slots.
    pool.parallel_for(t, [&](int64_t i, int) {
      float* qi = q + i * qd;
      float* ki = k + i * kvd;
      float* vi = v + i * kvd;
      if (!L.q_bias.empty()) {
        for (int64_t j = 0; j < qd; ++j) qi[j] += L.q_bias[static_cast<size_t>(j)];
        for (int64_t j = 0; j < kvd; ++j) ki[j] += L.k_bias[static_cast<size_t>(j)];
        for (int64_t j = 0; j < kvd; ++j) vi[j] += L.v_bias[static_cast<size_t>(j)];
      }
      const int64_t pos = tok_pos_[static_cast<size_t>(i)];
      for (int64_t hh = 0; hh < c.num_heads; ++hh) {
        if (!L.q_norm.empty())
          rms_norm(qi + hh * hd, L.q_norm.data(), hd, c.rms_norm_eps, qi + hh * hd);
        rope_.apply(qi + hh * hd, pos);
      }
      const SequenceStep& step = batch_[static_cast<size_t>(tok_seq_[static_cast<size_t>(i)])];
      const int64_t page = step.pages[static_cast<size_t>(pos / s.page_size)];
      const int64_t slot = pos % s.page_size;
      for (int64_t hh = 0; hh < c.num_kv_heads; ++hh) {
        if (!L.k_norm.empty())
          rms_norm(ki + hh * hd, L.k_norm.data(), hd, c.rms_norm_eps, ki + hh * hd);
        rope_.apply(ki + hh * hd, pos);
        std::copy(ki + hh * hd, ki + (hh + 1) * hd, kv.k(l, page, hh, slot));
        std::copy(vi + hh * hd, vi + (hh + 1) * hd, kv.v(l, page, hh, slot));
      }
    });
    attention(l, pool, kv);
    matmul(pool, kernels_, L.o, att, t, qd, xn, h, scratch_);
    // HF adds a linear layer's bias to its output before the residual add.
    if (!L.o_bias.empty()) add_row_bias(xn, L.o_bias.data(), t, h);
    for (int64_t i = 0; i < t * h; ++i) x[i] += xn[i];

    for (int64_t i = 0; i < t; ++i)
      rms_norm(x + i * h, L.ffn_norm.data(), h, c.rms_norm_eps, xn + i * h);
    const MatmulOutput gate_up[2] = {{&L.gate, gate, ff}, {&L.up, up, ff}};
    matmul_multi(pool, kernels_, gate_up, xn, t, h, scratch_);
    if (!L.gate_bias.empty()) {
      add_row_bias(gate, L.gate_bias.data(), t, ff);
      add_row_bias(up, L.up_bias.data(), t, ff);
    }
    // By token rows over the pool when the chunk is large (a 2,048-token chunk of a 1B model
    // is 16M exps: tens of milliseconds on one core, and a point where an interrupt is seen).
    if (t >= 64) {
      pool.parallel_for(
          t, [&](int64_t i, int) { silu_mul(gate + i * ff, up + i * ff, ff, gate + i * ff); });
    } else {
      silu_mul(gate, up, t * ff, gate);
    }
    matmul(pool, kernels_, L.down, gate, t, ff, xn, h, scratch_);
    if (!L.down_bias.empty()) add_row_bias(xn, L.down_bias.data(), t, h);
    for (int64_t i = 0; i < t * h; ++i) x[i] += xn[i];
  }

  if (raised()) return interrupted_step(c.num_layers, c.num_layers);
  const int64_t nl = static_cast<int64_t>(logit_rows.size());
  for (int64_t r = 0; r < nl; ++r) {
    rms_norm(x + logit_rows[static_cast<size_t>(r)] * h, w_.output_norm.data(), h, c.rms_norm_eps,
             xn + r * h);
  }
  const size_t base = logits.size();
  logits.resize(base + static_cast<size_t>(nl * c.vocab_size));
  matmul(pool, kernels_, w_.output, xn, nl, h, logits.data() + base, c.vocab_size, scratch_);
  if (raised()) {  // the pool may have skipped rows of the logits
    logits.resize(base);
    return interrupted_step(c.num_layers, c.num_layers);
  }
  return OkStatus();
}

void LlamaForward::attention(int64_t layer, ThreadPool& pool, KvPool& kv) {
  const ModelConfig& c = config_;
  const int64_t hd = c.head_dim, qd = c.num_heads * hd;
  const int64_t group = c.num_heads / c.num_kv_heads;
  const int64_t page_size = kv.shape().page_size;
  const int64_t t = static_cast<int64_t>(tok_pos_.size());
  int64_t max_ctx = 0;
  for (int64_t p : tok_pos_) max_ctx = std::max(max_ctx, p + 1);
  const size_t per_thread = static_cast<size_t>(group * max_ctx);
  if (scores_.size() < per_thread * static_cast<size_t>(pool.size())) {
    scores_.resize(per_thread * static_cast<size_t>(pool.size()));
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* q = q_.data();
  float* out = attn_.data();
  // One task per (token, kv head): the group's q heads share each K/V row while it is in cache.
  pool.parallel_for(t * c.num_kv_heads, [&](int64_t task, int thread) {
    const int64_t i = task / c.num_kv_heads, kh = task % c.num_kv_heads;
    const int64_t ctx = tok_pos_[static_cast<size_t>(i)] + 1;  // causal: positions 0..pos
    const SequenceStep& step = batch_[static_cast<size_t>(tok_seq_[static_cast<size_t>(i)])];
    float* sc = scores_.data() + per_thread * static_cast<size_t>(thread);
    const float* qh = q + i * qd + kh * group * hd;
    for (int64_t j = 0; j < ctx; ++j) {
      const float* kr =
          kv.k(layer, step.pages[static_cast<size_t>(j / page_size)], kh, j % page_size);
      for (int64_t g = 0; g < group; ++g)
        sc[g * ctx + j] = kernels_.dot(hd, qh + g * hd, kr) * scale;
    }
    for (int64_t g = 0; g < group; ++g) {
      float* row = sc + g * ctx;
      float mx = row[0];
      for (int64_t j = 1; j < ctx; ++j) mx = std::max(mx, row[j]);
      float sum = 0.0f;
      for (int64_t j = 0; j < ctx; ++j) {
        row[j] = std::exp(row[j] - mx);
        sum += row[j];
      }
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < ctx; ++j) row[j] *= inv;
      std::fill(out + i * qd + (kh * group + g) * hd, out + i * qd + (kh * group + g + 1) * hd,
                0.0f);
    }
    for (int64_t j = 0; j < ctx; ++j) {
      const float* vr =
          kv.v(layer, step.pages[static_cast<size_t>(j / page_size)], kh, j % page_size);
      for (int64_t g = 0; g < group; ++g) {
        kernels_.axpy(hd, sc[g * ctx + j], vr, out + i * qd + (kh * group + g) * hd);
      }
    }
  });
}

}  // namespace stemma::cpu
