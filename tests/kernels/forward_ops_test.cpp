// RMSNorm, RoPE, SwiGLU, embedding gather and the cuBLAS GEMM against float64 CPU references on
// the same 16-bit inputs. Tolerances: one 16-bit rounding of the output (fp16 ~1e-3, bf16 ~8e-3
// relative) plus fp32 arithmetic.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/forward_ops.h"
#include "kernels/gemm.h"
#include "tests/kernels/gpu_test_util.h"

namespace stemma::kernels {
namespace {

using namespace testing;
[[maybe_unused]] const bool kHaveGpu = exit_77_without_gpu();

double tol(bool bf16) {
  return bf16 ? 1e-2 : 2e-3;
}

double rel_err(const std::vector<uint16_t>& got, const std::vector<double>& ref, bool bf16,
               int64_t* nans) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = from_bits(got[i], bf16);
    if (std::isnan(g)) ++*nans;
    num += (g - ref[i]) * (g - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

TEST_CASE("rms norm, with and without the fused residual add") {
  std::mt19937 rng(1);
  for (bool bf16 : {false, true}) {
    for (bool fused : {false, true}) {
      for (int32_t dim : {64, 4096, 3584}) {
        const int32_t rows = 7;
        const int64_t xs = dim + 8, os = dim + 16;
        std::vector<uint16_t> xb, rb, wb;
        auto x = random_half(rng, rows * xs, 1.f, bf16, xb);
        auto res = random_half(rng, rows * xs, 1.f, bf16, rb);
        auto w = random_half(rng, dim, 1.f, bf16, wb);
        DeviceBuffer<uint16_t> dx(xb), dr(rb), dw(wb), dout(rows * os);
        dout.poison();
        RmsNormParams p;
        p.dtype = bf16 ? DType::kBF16 : DType::kF16;
        p.out = dout.ptr;
        p.out_stride = os;
        p.x = dx.ptr;
        p.x_stride = xs;
        p.residual = fused ? dr.ptr : nullptr;
        p.residual_stride = xs;
        p.weight = dw.ptr;
        p.rows = rows;
        p.dim = dim;
        p.eps = 1e-6f;
        STEMMA_CUDA_CHECK(launch_rms_norm(p, nullptr));
        STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
        std::vector<double> ref;
        std::vector<uint16_t> got;
        const auto out = dout.download();
        const auto res_after = dr.download();
        int64_t res_wrong = 0;
        for (int32_t r = 0; r < rows; ++r) {
          std::vector<double> v(dim);
          double ss = 0;
          for (int32_t i = 0; i < dim; ++i) {
            v[i] = x[r * xs + i];
            if (fused) {
              // The kernel normalises the 16-bit rounded sum, which it also stores.
              const uint16_t sum_bits = to_bits(static_cast<float>(res[r * xs + i] + v[i]), bf16);
              res_wrong += res_after[r * xs + i] != sum_bits;
              v[i] = from_bits(sum_bits, bf16);
            }
            ss += v[i] * v[i];
          }
          const double inv = 1.0 / std::sqrt(ss / dim + 1e-6);
          for (int32_t i = 0; i < dim; ++i) {
            ref.push_back(v[i] * inv * w[i]);
            got.push_back(out[r * os + i]);
          }
        }
        int64_t nans = 0;
        CAPTURE(bf16);
        CAPTURE(fused);
        CAPTURE(dim);
        CHECK(rel_err(got, ref, bf16, &nans) < tol(bf16));
        CHECK(nans == 0);
        CHECK(res_wrong <= dim * rows / 1000);  // fp32 add then round: equal but for rare ties
      }
    }
  }
}

TEST_CASE("rope: rotate-half and interleaved, plain and llama-3 scaled frequencies") {
  std::mt19937 rng(2);
  RopeScaling llama3;
  llama3.kind = RopeScaling::Kind::kLlama3;
  llama3.factor = 8;
  llama3.low_freq_factor = 1;
  llama3.high_freq_factor = 4;
  llama3.original_max_position = 8192;
  for (bool bf16 : {false, true}) {
    for (RopeStyle style : {RopeStyle::kRotateHalf, RopeStyle::kInterleaved}) {
      for (const RopeScaling& sc : {RopeScaling{}, llama3}) {
        const int32_t tokens = 9, qh = 6, kvh = 2, D = 128;
        std::vector<uint16_t> qb, kb;
        auto q = random_half(rng, tokens * qh * D, 1.f, bf16, qb);
        auto k = random_half(rng, tokens * kvh * D, 1.f, bf16, kb);
        std::vector<int32_t> pos(tokens);
        for (auto& x : pos) x = std::uniform_int_distribution<int32_t>(0, 100000)(rng);
        const auto inv = rope_inv_freq(D, 500000.0, sc);
        DeviceBuffer<uint16_t> dq(qb), dk(kb);
        DeviceBuffer<int32_t> dpos(pos);
        DeviceBuffer<float> dinv(inv);
        RopeParams p;
        p.dtype = bf16 ? DType::kBF16 : DType::kF16;
        p.style = style;
        p.q = dq.ptr;
        p.q_token_stride = qh * D;
        p.k = dk.ptr;
        p.k_token_stride = kvh * D;
        p.positions = dpos.ptr;
        p.inv_freq = dinv.ptr;
        p.tokens = tokens;
        p.q_heads = qh;
        p.kv_heads = kvh;
        p.head_dim = D;
        STEMMA_CUDA_CHECK(launch_rope(p, nullptr));
        STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
        auto check = [&](const std::vector<float>& in, const DeviceBuffer<uint16_t>& d, int heads) {
          std::vector<double> ref(in.size());
          for (int32_t t = 0; t < tokens; ++t) {
            for (int32_t h = 0; h < heads; ++h) {
              const int64_t base = (static_cast<int64_t>(t) * heads + h) * D;
              for (int32_t i = 0; i < D / 2; ++i) {
                const double ang = static_cast<double>(pos[t]) * inv[i];
                const int a = style == RopeStyle::kRotateHalf ? i : 2 * i;
                const int b = style == RopeStyle::kRotateHalf ? i + D / 2 : 2 * i + 1;
                ref[base + a] = in[base + a] * std::cos(ang) - in[base + b] * std::sin(ang);
                ref[base + b] = in[base + b] * std::cos(ang) + in[base + a] * std::sin(ang);
              }
            }
          }
          int64_t nans = 0;
          // fp32 angles at positions near 1e5 lose ~1e-3 rad: allow that on top of rounding.
          CHECK(rel_err(d.download(), ref, bf16, &nans) < tol(bf16) + 2e-3);
          CHECK(nans == 0);
        };
        CAPTURE(bf16);
        CAPTURE(static_cast<int>(style));
        CAPTURE(static_cast<int>(sc.kind));
        check(q, dq, qh);
        check(k, dk, kvh);
      }
    }
  }
  // The scaled table keeps high frequencies, divides low ones by the factor, blends between.
  const auto plain = rope_inv_freq(128, 500000.0, RopeScaling{});
  const auto scaled = rope_inv_freq(128, 500000.0, llama3);
  CHECK(scaled[0] == plain[0]);
  CHECK(scaled[63] == doctest::Approx(plain[63] / 8).epsilon(1e-6));
  bool blended = false;
  for (int i = 0; i < 64; ++i) {
    blended |= scaled[i] < plain[i] && scaled[i] > plain[i] / 8 * 1.0001;
  }
  CHECK(blended);
}

TEST_CASE("swiglu and embedding gather") {
  std::mt19937 rng(3);
  for (bool bf16 : {false, true}) {
    const int32_t rows = 5, dim = 14336 / 4;
    std::vector<uint16_t> gb, ub;
    auto g = random_half(rng, rows * 2 * dim, 2.f, bf16, gb);  // fused [gate | up] rows
    DeviceBuffer<uint16_t> dg(gb), dout(rows * dim);
    dout.poison();
    SwiGluParams p;
    p.dtype = bf16 ? DType::kBF16 : DType::kF16;
    p.out = dout.ptr;
    p.out_stride = dim;
    p.gate = dg.ptr;
    p.gate_stride = 2 * dim;
    p.up = dg.ptr + dim;
    p.up_stride = 2 * dim;
    p.rows = rows;
    p.dim = dim;
    STEMMA_CUDA_CHECK(launch_swiglu(p, nullptr));
    STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<double> ref;
    for (int32_t r = 0; r < rows; ++r) {
      for (int32_t i = 0; i < dim; ++i) {
        const double x = g[r * 2 * dim + i], u = g[r * 2 * dim + dim + i];
        ref.push_back(x / (1 + std::exp(-x)) * u);
      }
    }
    int64_t nans = 0;
    CHECK(rel_err(dout.download(), ref, bf16, &nans) < tol(bf16));
    CHECK(nans == 0);

    const int32_t vocab = 1000, edim = 256, tokens = 12;
    std::vector<uint16_t> tb;
    random_half(rng, vocab * edim, 1.f, bf16, tb);
    std::vector<int32_t> ids(tokens);
    for (auto& id : ids) id = std::uniform_int_distribution<int32_t>(0, vocab - 1)(rng);
    ids[4] = vocab;  // out of range: zero row
    ids[5] = -3;
    DeviceBuffer<uint16_t> dt(tb), de(tokens * edim);
    DeviceBuffer<int32_t> dids(ids);
    de.poison();
    EmbeddingParams e;
    e.dtype = p.dtype;
    e.out = de.ptr;
    e.out_stride = edim;
    e.table = dt.ptr;
    e.table_stride = edim;
    e.ids = dids.ptr;
    e.tokens = tokens;
    e.vocab = vocab;
    e.dim = edim;
    STEMMA_CUDA_CHECK(launch_embedding(e, nullptr));
    STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
    const auto got = de.download();
    int64_t wrong = 0;
    for (int32_t t = 0; t < tokens; ++t) {
      for (int32_t i = 0; i < edim; ++i) {
        const bool ok = ids[t] >= 0 && ids[t] < vocab;
        wrong += got[t * edim + i] != (ok ? tb[ids[t] * edim + i] : 0);
      }
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("gemm through cuBLAS: y = x w^T with strides") {
  std::mt19937 rng(4);
  cublasHandle_t h = nullptr;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  for (bool bf16 : {false, true}) {
    const int32_t rows = 9, in = 256, out = 200;
    const int64_t ldx = in + 8, ldw = in, ldy = out + 8;
    std::vector<uint16_t> xb, wb;
    auto x = random_half(rng, rows * ldx, 1.f, bf16, xb);
    auto w = random_half(rng, out * ldw, 0.1f, bf16, wb);
    DeviceBuffer<uint16_t> dx(xb), dw(wb), dy(rows * ldy);
    dy.poison();
    REQUIRE(gemm_xwt(h, bf16 ? DType::kBF16 : DType::kF16, rows, out, in, dx.ptr, ldx, dw.ptr, ldw,
                     dy.ptr, ldy) == CUBLAS_STATUS_SUCCESS);
    STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
    const auto y = dy.download();
    std::vector<double> ref;
    std::vector<uint16_t> got;
    for (int32_t r = 0; r < rows; ++r) {
      for (int32_t o = 0; o < out; ++o) {
        double acc = 0;
        for (int32_t i = 0; i < in; ++i)
          acc += static_cast<double>(x[r * ldx + i]) * w[o * ldw + i];
        ref.push_back(acc);
        got.push_back(y[r * ldy + o]);
      }
    }
    int64_t nans = 0;
    CHECK(rel_err(got, ref, bf16, &nans) < tol(bf16));
    CHECK(nans == 0);
  }
  cublasDestroy(h);
}

}  // namespace
}  // namespace stemma::kernels
