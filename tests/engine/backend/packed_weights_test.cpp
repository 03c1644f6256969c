// The packed-panel matmul (packed_weights.h, gemm_impl.inc) against the row-dot matmul on the
// stored rows, for every packed weight type and every instruction set this machine has: row
// counts around the 16-row panel and the panel pairs, odd block counts (Q8_0 pairs), token counts
// around each kernel's tile height and past one token chunk, 1 to 3 threads. Both paths quantize
// the activations the same way and sum integers exactly, so they differ only by float rounding;
// and the packed path gives bit-identical rows whatever the batch size and thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/backend/cpu/kernels.h"
#include "engine/backend/cpu/matmul.h"
#include "engine/backend/cpu/packed_weights.h"
#include "tests/engine/backend/random_weights.h"

using namespace stemma;
using namespace stemma::cpu;
using stemma::cpu::test::random_weights;

namespace {

std::vector<Isa> isas_here() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

struct Case {
  DType dtype;
  int64_t rows;
  int64_t k;
};

// sum_k |W[r, k] * x[i, k]| over the dequantized weights: the scale of a dot product's rounding.
std::vector<double> magnitudes(DType dt, const std::vector<uint8_t>& w, size_t row_stride,
                               int64_t rows, int64_t k, const std::vector<float>& x, int64_t m) {
  std::vector<double> mag(static_cast<size_t>(m * rows));
  std::vector<float> wf(static_cast<size_t>(k));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(dt, w.data() + row_stride * static_cast<size_t>(r), k, wf.data());
    for (int64_t i = 0; i < m; ++i) {
      double s = 0;
      for (int64_t c = 0; c < k; ++c) {
        s += std::fabs(static_cast<double>(wf[static_cast<size_t>(c)]) *
                       x[static_cast<size_t>(i * k + c)]);
      }
      mag[static_cast<size_t>(i * rows + r)] = s;
    }
  }
  return mag;
}

}  // namespace

TEST_CASE("packed matmul equals the row-dot matmul for every packed type, ISA and shape") {
  std::mt19937 rng(2023);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const Case cases[] = {
      {DType::kQ8_0, 1, 32},   {DType::kQ8_0, 17, 96},  {DType::kQ8_0, 33, 64},
      {DType::kQ8_0, 70, 160}, {DType::kQ4_K, 15, 256}, {DType::kQ4_K, 16, 512},
      {DType::kQ4_K, 49, 768}, {DType::kQ6_K, 1, 256},  {DType::kQ6_K, 31, 512},
      {DType::kQ6_K, 48, 768},
  };
  const int64_t ms[] = {1, 2, 5, 7, 13, 25};
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  for (Isa isa : isas_here()) {
    const KernelTable& kt = kernels_for(isa);
    for (const Case& c : cases) {
      REQUIRE(packed_format(c.dtype) != PackedFormat::kNone);
      const std::vector<uint8_t> w = random_weights(c.dtype, c.rows, c.k, rng);
      TensorView tv;
      tv.name = "w";
      tv.dtype = c.dtype;
      tv.shape = {c.rows, c.k};
      tv.data = w.data();
      tv.nbytes = w.size();
      Result<Matrix> packed = make_matrix(tv, kt);
      REQUIRE(packed.ok());
      REQUIRE(packed->packed != nullptr);
      CHECK(packed->packed->panels == (c.rows + kPanelRows - 1) / kPanelRows);
      Matrix rows_only = *packed;
      rows_only.packed = nullptr;  // the matmul reads the stored rows
      std::vector<uint8_t> scratch;
      for (int64_t m : ms) {
        std::vector<float> x(static_cast<size_t>(m * c.k));
        for (auto& v : x) v = nd(rng);
        const std::vector<double> mag =
            magnitudes(c.dtype, w, packed->row_stride, c.rows, c.k, x, m);
        std::vector<float> ref(static_cast<size_t>(m * c.rows));
        matmul(pools[1], kt, rows_only, x.data(), m, c.k, ref.data(), c.rows, scratch);
        std::vector<float> first;
        for (ThreadPool& pool : pools) {
          // Output rows wider than the matrix: the kernel must not write past its rows.
          const int64_t ldy = c.rows + 3;
          std::vector<float> y(static_cast<size_t>(m * ldy), -7.0f);
          matmul(pool, kt, *packed, x.data(), m, c.k, y.data(), ldy, scratch);
          std::vector<float> got(static_cast<size_t>(m * c.rows));
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t r = 0; r < c.rows; ++r)
              got[static_cast<size_t>(i * c.rows + r)] = y[static_cast<size_t>(i * ldy + r)];
            for (int64_t r = c.rows; r < ldy; ++r)
              CHECK(y[static_cast<size_t>(i * ldy + r)] == -7.0f);
          }
          INFO("isa " << isa_name(isa) << " type " << static_cast<int>(c.dtype) << " rows "
                      << c.rows << " k " << c.k << " m " << m << " threads " << pool.size());
          for (size_t j = 0; j < got.size(); ++j)
            CHECK(std::fabs(got[j] - ref[j]) <= 1e-5 * mag[j] + 1e-6);
          if (first.empty()) {
            first = got;
          } else {
            CHECK(got == first);  // the same bits whatever the thread count
          }
        }
        // One token at a time (decode) gives the bits of the batched rows (prefill).
        std::vector<float> single(static_cast<size_t>(c.rows));
        for (int64_t i = 0; i < m; ++i) {
          matmul(pools[0], kt, *packed, x.data() + i * c.k, 1, c.k, single.data(), c.rows, scratch);
          for (int64_t r = 0; r < c.rows; ++r)
            CHECK(single[static_cast<size_t>(r)] == first[static_cast<size_t>(i * c.rows + r)]);
        }
      }
    }
  }
}

TEST_CASE("packed matmul splits long prompts into token chunks with the same results") {
  // 230 tokens of k = 768 are two token chunks of a task (matmul.cpp's L2 budget).
  std::mt19937 rng(77);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t k = 768, rows = 40, m = 230;
  std::vector<float> x(static_cast<size_t>(m * k));
  for (auto& v : x) v = nd(rng);
  ThreadPool pool(2);
  const KernelTable& kt = kernels();
  for (DType dt : {DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    const std::vector<uint8_t> w = random_weights(dt, rows, k, rng);
    TensorView tv;
    tv.name = "w";
    tv.dtype = dt;
    tv.shape = {rows, k};
    tv.data = w.data();
    tv.nbytes = w.size();
    Matrix packed = make_matrix(tv, kt).value();
    Matrix rows_only = packed;
    rows_only.packed = nullptr;
    std::vector<uint8_t> scratch;
    std::vector<float> y(static_cast<size_t>(m * rows)), ref(y.size()),
        one(static_cast<size_t>(rows));
    matmul(pool, kt, packed, x.data(), m, k, y.data(), rows, scratch);
    matmul(pool, kt, rows_only, x.data(), m, k, ref.data(), rows, scratch);
    const std::vector<double> mag = magnitudes(dt, w, packed.row_stride, rows, k, x, m);
    INFO("type " << static_cast<int>(dt));
    for (size_t j = 0; j < y.size(); ++j) CHECK(std::fabs(y[j] - ref[j]) <= 1e-5 * mag[j] + 1e-6);
    for (int64_t i : {int64_t{0}, int64_t{199}, int64_t{229}}) {
      matmul(pool, kt, packed, x.data() + i * k, 1, k, one.data(), rows, scratch);
      for (int64_t r = 0; r < rows; ++r)
        CHECK(one[static_cast<size_t>(r)] == y[static_cast<size_t>(i * rows + r)]);
    }
  }
}

TEST_CASE("make_matrix without packing reads the stored rows") {
  std::mt19937 rng(3);
  const std::vector<uint8_t> w = random_weights(DType::kQ8_0, 20, 64, rng);
  TensorView tv;
  tv.name = "token_embd.weight";
  tv.dtype = DType::kQ8_0;
  tv.shape = {20, 64};
  tv.data = w.data();
  tv.nbytes = w.size();
  Result<Matrix> m = make_matrix(tv, kernels(), /*pack=*/false);
  REQUIRE(m.ok());
  CHECK(m->packed == nullptr);
  CHECK(m->row(3) == w.data() + 3 * m->row_stride);
  CHECK(make_matrix(tv, kernels())->packed != nullptr);
}

TEST_CASE("types without a packed format are read as stored") {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0}) {
    CHECK(packed_format(dt) == PackedFormat::kNone);
    CHECK(pack_matrix(dt, nullptr, 0, 4, 32) == nullptr);
  }
}
