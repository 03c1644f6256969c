// The CPU kernels of every instruction set this machine has, against scalar float references:
// dequantize the weight row (GGML layout) and, for quantized weights, the 8-bit activation
// blocks, then take a double-precision dot product.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/backend/cpu/kernels.h"
#include "engine/backend/cpu/matmul.h"
#include "tests/engine/backend/random_weights.h"

using namespace stemma;
using namespace stemma::cpu;
using stemma::cpu::test::random_weights;

namespace {

// What the kernel actually multiplies x by: x itself, or its 8-bit blocks dequantized.
std::vector<float> effective_x(const KernelTable& kt, ActFormat act, const float* x, int64_t k) {
  std::vector<float> out(x, x + k);
  if (act == ActFormat::kQ32) {
    std::vector<ActQ32> q(static_cast<size_t>(k / 32));
    kt.quantize_q32(k, x, q.data());
    for (int64_t b = 0; b < k / 32; ++b) {
      int32_t sum = 0;
      for (int i = 0; i < 32; ++i) {
        out[static_cast<size_t>(32 * b + i)] =
            q[static_cast<size_t>(b)].d * q[static_cast<size_t>(b)].qs[i];
        sum += q[static_cast<size_t>(b)].qs[i];
      }
      CHECK(sum == q[static_cast<size_t>(b)].sum);
    }
  } else if (act == ActFormat::kQ256) {
    std::vector<ActQ256> q(static_cast<size_t>(k / 256));
    kt.quantize_q256(k, x, q.data());
    for (int64_t b = 0; b < k / 256; ++b) {
      const ActQ256& blk = q[static_cast<size_t>(b)];
      for (int g = 0; g < 16; ++g) {
        int32_t sum = 0;
        for (int i = 0; i < 16; ++i) {
          out[static_cast<size_t>(256 * b + 16 * g + i)] = blk.d * blk.qs[16 * g + i];
          sum += blk.qs[16 * g + i];
        }
        CHECK(sum == blk.bsums[g]);
      }
    }
  }
  return out;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

const DType kAllTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,
                           DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};

}  // namespace

TEST_CASE("activation quantization round-trips within half a step") {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> x(512);
  for (auto& v : x) v = nd(rng);
  for (Isa isa : supported_isas()) {
    const KernelTable& kt = kernels_for(isa);
    for (ActFormat act : {ActFormat::kQ32, ActFormat::kQ256}) {
      std::vector<float> e = effective_x(kt, act, x.data(), 512);
      const int64_t bs = act == ActFormat::kQ32 ? 32 : 256;
      for (int64_t b = 0; b < 512 / bs; ++b) {
        float amax = 0;
        for (int64_t i = 0; i < bs; ++i)
          amax = std::max(amax, std::fabs(x[static_cast<size_t>(b * bs + i)]));
        for (int64_t i = 0; i < bs; ++i) {
          CHECK(std::fabs(e[static_cast<size_t>(b * bs + i)] -
                          x[static_cast<size_t>(b * bs + i)]) <= 0.5f * amax / 127.0f * 1.0001f);
        }
      }
    }
  }
}

TEST_CASE("row dot kernels match the dequantized float reference for every type and ISA") {
  std::mt19937 rng(1234);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (Isa isa : supported_isas()) {
    const KernelTable& kt = kernels_for(isa);
    for (DType dt : kAllTypes) {
      const WeightKernel wk = weight_kernel(kt, dt);
      REQUIRE(static_cast<bool>(wk.dot));
      // Odd sizes: one block, a few blocks with odd counts (tails of the 2-block SIMD loops),
      // and for float types lengths that are not multiples of the vector width.
      std::vector<int64_t> ks = {wk.block, 3 * wk.block, 7 * wk.block};
      if (wk.block == 1) ks = {1, 15, 37, 100, 333};
      for (int64_t k : ks) {
        const std::vector<uint8_t> w = random_weights(dt, 1, k, rng);
        std::vector<float> wf(static_cast<size_t>(k));
        dequantize_row(dt, w.data(), k, wf.data());
        std::vector<float> xs(static_cast<size_t>(4 * k));
        for (auto& v : xs) v = nd(rng);
        // The kernel's x rows, in its activation format.
        const size_t xb = act_row_bytes(wk.act, k);
        std::vector<uint8_t> xa(xb * 4);
        for (int j = 0; j < 4; ++j) {
          const float* xr = xs.data() + j * k;
          if (wk.act == ActFormat::kF32) std::memcpy(xa.data() + xb * j, xr, xb);
          if (wk.act == ActFormat::kQ32)
            kt.quantize_q32(k, xr, reinterpret_cast<ActQ32*>(xa.data() + xb * j));
          if (wk.act == ActFormat::kQ256)
            kt.quantize_q256(k, xr, reinterpret_cast<ActQ256*>(xa.data() + xb * j));
        }
        for (int nx = 1; nx <= 4; ++nx) {
          float out[8] = {};
          wk.dot(k, w.data(), xa.data(), xb, nx, out, 2);
          for (int j = 0; j < nx; ++j) {
            const std::vector<float> xe = effective_x(kt, wk.act, xs.data() + j * k, k);
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < k; ++i) {
              ref += static_cast<double>(wf[static_cast<size_t>(i)]) * xe[static_cast<size_t>(i)];
              mag += std::fabs(static_cast<double>(wf[static_cast<size_t>(i)]) *
                               xe[static_cast<size_t>(i)]);
            }
            INFO("isa " << isa_name(isa) << " type " << static_cast<int>(dt) << " k " << k << " nx "
                        << nx << " j " << j);
            CHECK(std::fabs(out[2 * j] - ref) <= 1e-5 * mag + 1e-6);
          }
        }
      }
    }
  }
}

TEST_CASE("matmul gives the same rows for 1 and 2 threads and for any batch size") {
  std::mt19937 rng(99);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const KernelTable& kt = kernels();
  for (DType dt : kAllTypes) {
    const int64_t k = weight_kernel(kt, dt).block == 256 ? 512 : 96;
    const int64_t n = 37, m = 6;
    const std::vector<uint8_t> w = random_weights(dt, n, k, rng);
    TensorView tv;
    tv.name = "w";
    tv.dtype = dt;
    tv.shape = {n, k};
    tv.data = w.data();
    tv.nbytes = w.size();
    Result<Matrix> mat = make_matrix(tv, kt);
    REQUIRE(mat.ok());
    std::vector<float> x(static_cast<size_t>(m * k));
    for (auto& v : x) v = nd(rng);
    std::vector<uint8_t> scratch;
    std::vector<float> y1(static_cast<size_t>(m * n)), y2(y1.size()), y_single(y1.size());
    ThreadPool p1(1), p2(2);
    const std::string what = std::string(dtype_name(dt)) + " on " + isa_name(kt.isa);
    INFO(what);
    matmul(p1, kt, *mat, x.data(), m, k, y1.data(), n, scratch);
    matmul(p2, kt, *mat, x.data(), m, k, y2.data(), n, scratch);
    for (int64_t i = 0; i < m; ++i)
      matmul(p2, kt, *mat, x.data() + i * k, 1, k, y_single.data() + i * n, n, scratch);
    CHECK(y1 == y2);
    CHECK(y1 == y_single);
    // And against a float reference of the true (unquantized) x, within quantization error.
    std::vector<float> wf(static_cast<size_t>(k));
    for (int64_t r = 0; r < n; ++r) {
      dequantize_row(dt, w.data() + mat->row_stride * static_cast<size_t>(r), k, wf.data());
      for (int64_t i = 0; i < m; ++i) {
        double ref = 0, mag = 0;
        for (int64_t c = 0; c < k; ++c) {
          ref +=
              static_cast<double>(wf[static_cast<size_t>(c)]) * x[static_cast<size_t>(i * k + c)];
          mag += std::fabs(static_cast<double>(wf[static_cast<size_t>(c)]) *
                           x[static_cast<size_t>(i * k + c)]);
        }
        const double tol = weight_kernel(kt, dt).act == ActFormat::kF32 ? 1e-5 * mag : 0.02 * mag;
        CHECK(std::fabs(y1[static_cast<size_t>(i * n + r)] - ref) <= tol + 1e-6);
      }
    }
  }
}

TEST_CASE("make_matrix names the tensor it refuses") {
  std::vector<uint8_t> bytes(34 * 3);
  TensorView tv;
  tv.name = "blk.0.attn_q.weight";
  tv.dtype = DType::kQ4_K;
  tv.shape = {1, 96};
  tv.data = bytes.data();
  tv.nbytes = bytes.size();
  Result<Matrix> m = make_matrix(tv, kernels());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("blk.0.attn_q.weight") != std::string::npos);
  tv.dtype = DType::kQ8_0;
  tv.shape = {4, 96};
  m = make_matrix(tv, kernels());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == StatusCode::kCorruptData);
}

TEST_CASE("matmul_multi over mixed weight types equals one matmul per matrix") {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const KernelTable& kt = kernels();
  const int64_t k = 512, m = 5;
  const DType types[] = {DType::kQ4_K, DType::kQ8_0, DType::kBF16, DType::kQ6_K};
  const int64_t rows[] = {40, 17, 9, 33};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<Matrix> mats;
  for (int i = 0; i < 4; ++i) {
    bytes.push_back(random_weights(types[i], rows[i], k, rng));
    TensorView tv;
    tv.name = "w" + std::to_string(i);
    tv.dtype = types[i];
    tv.shape = {rows[i], k};
    tv.data = bytes.back().data();
    tv.nbytes = bytes.back().size();
    mats.push_back(make_matrix(tv, kt).value());
  }
  std::vector<float> x(static_cast<size_t>(m * k));
  for (auto& v : x) v = nd(rng);
  ThreadPool pool(2);
  std::vector<uint8_t> scratch;
  std::vector<std::vector<float>> fused(4), single(4);
  std::vector<MatmulOutput> outs;
  for (int i = 0; i < 4; ++i) {
    fused[static_cast<size_t>(i)].assign(static_cast<size_t>(m * rows[i]), 0.0f);
    single[static_cast<size_t>(i)].assign(static_cast<size_t>(m * rows[i]), 0.0f);
    outs.push_back({&mats[static_cast<size_t>(i)], fused[static_cast<size_t>(i)].data(), rows[i]});
    matmul(pool, kt, mats[static_cast<size_t>(i)], x.data(), m, k,
           single[static_cast<size_t>(i)].data(), rows[i], scratch);
  }
  matmul_multi(pool, kt, outs, x.data(), m, k, scratch);
  for (int i = 0; i < 4; ++i)
    CHECK(fused[static_cast<size_t>(i)] == single[static_cast<size_t>(i)]);
}
