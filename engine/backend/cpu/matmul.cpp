#include "engine/backend/cpu/matmul.h"

#include <algorithm>
#include <string>

namespace stemma::cpu {

Result<Matrix> make_matrix(const TensorView& t, const KernelTable& kernels) {
  if (t.shape.size() != 2) {
    return InvalidArgument("tensor " + t.name + ": expected a 2-D matrix, got " +
                           std::to_string(t.shape.size()) + " dimensions");
  }
  Matrix m;
  m.dtype = t.dtype;
  m.rows = t.shape[0];
  m.cols = t.shape[1];
  m.kernel = weight_kernel(kernels, t.dtype);
  if (m.kernel.dot == nullptr) {
    return Unsupported("tensor " + t.name + ": the CPU backend has no kernel for its type (id " +
                       std::to_string(static_cast<uint32_t>(t.dtype)) + ")");
  }
  if (m.rows <= 0 || m.cols <= 0 || m.cols % m.kernel.block != 0) {
    return InvalidArgument("tensor " + t.name + ": " + std::to_string(m.cols) +
                           " columns is not a positive multiple of the block size " +
                           std::to_string(m.kernel.block));
  }
  m.row_stride = row_bytes(t.dtype, m.cols);
  if (t.data == nullptr || t.nbytes < m.row_stride * static_cast<size_t>(m.rows)) {
    return CorruptData("tensor " + t.name + ": holds " + std::to_string(t.nbytes) +
                       " bytes, its shape needs " +
                       std::to_string(m.row_stride * static_cast<size_t>(m.rows)));
  }
  m.data = t.data;
  return m;
}

void matmul(ThreadPool& pool, const KernelTable& kernels, const Matrix& w, const float* x,
            int64_t m, int64_t ldx, float* y, int64_t ldy, std::vector<uint8_t>& scratch) {
  const MatmulOutput out{&w, y, ldy};
  matmul_multi(pool, kernels, std::span<const MatmulOutput>(&out, 1), x, m, ldx, scratch);
}

void matmul_multi(ThreadPool& pool, const KernelTable& kernels, std::span<const MatmulOutput> outs,
                  const float* x, int64_t m, int64_t ldx, std::vector<uint8_t>& scratch) {
  if (m <= 0 || outs.empty()) return;
  const int64_t k = outs[0].w->cols;
  // Bring x into each activation format the weight kernels multiply with (usually one).
  constexpr int kFormats = 3;
  bool need[kFormats] = {};
  for (const MatmulOutput& o : outs) need[static_cast<int>(o.w->kernel.act)] = true;
  const uint8_t* xa[kFormats] = {reinterpret_cast<const uint8_t*>(x), nullptr, nullptr};
  size_t xs[kFormats] = {static_cast<size_t>(ldx) * sizeof(float), 0, 0};
  size_t offset[kFormats] = {};
  size_t total = 0;
  for (int f = 1; f < kFormats; ++f) {
    if (!need[f]) continue;
    xs[f] = act_row_bytes(static_cast<ActFormat>(f), k);
    offset[f] = total;
    total += xs[f] * static_cast<size_t>(m);
  }
  if (total > 0) {
    if (scratch.size() < total) scratch.resize(total);
    uint8_t* q = scratch.data();
    auto quantize_row = [&](int64_t i, int) {
      if (need[1]) {
        kernels.quantize_q32(k, x + i * ldx, reinterpret_cast<ActQ32*>(q + offset[1] + i * xs[1]));
      }
      if (need[2]) {
        kernels.quantize_q256(k, x + i * ldx,
                              reinterpret_cast<ActQ256*>(q + offset[2] + i * xs[2]));
      }
    };
    if (m >= 4) {
      pool.parallel_for(m, quantize_row);
    } else {
      for (int64_t i = 0; i < m; ++i) quantize_row(i, 0);
    }
    for (int f = 1; f < kFormats; ++f) xa[f] = q + offset[f];
  }

  // Tasks are blocks of weight rows; each reads its rows once per group of kMaxRowDotX x rows,
  // while they are hot in cache. Enough tasks per thread for dynamic balancing on busy cores.
  int64_t rows = 0;
  for (const MatmulOutput& o : outs) rows += o.w->rows;
  const int64_t target_tasks = static_cast<int64_t>(pool.size()) * 8;
  int64_t rows_per_task = std::max<int64_t>(8, (rows + target_tasks - 1) / target_tasks);
  if (m > 1) rows_per_task = std::min<int64_t>(rows_per_task, 32);
  // Task ranges of each output: [first_task[i], first_task[i + 1]).
  constexpr size_t kMaxOutputs = 8;
  int64_t first_task[kMaxOutputs + 1] = {};
  const size_t n_out = std::min(outs.size(), kMaxOutputs);
  for (size_t i = 0; i < n_out; ++i) {
    first_task[i + 1] = first_task[i] + (outs[i].w->rows + rows_per_task - 1) / rows_per_task;
  }
  pool.parallel_for(first_task[n_out], [&](int64_t task, int) {
    size_t o = 0;
    while (task >= first_task[o + 1]) ++o;
    const Matrix& w = *outs[o].w;
    const int f = static_cast<int>(w.kernel.act);
    const int64_t r0 = (task - first_task[o]) * rows_per_task;
    const int64_t r1 = std::min(w.rows, r0 + rows_per_task);
    float* y = outs[o].y;
    const int64_t ldy = outs[o].ldy;
    for (int64_t i = 0; i < m; i += kMaxRowDotX) {
      const int nx = static_cast<int>(std::min<int64_t>(kMaxRowDotX, m - i));
      for (int64_t r = r0; r < r1; ++r) {
        w.kernel.dot(k, w.row(r), xa[f] + static_cast<size_t>(i) * xs[f], xs[f], nx,
                     y + i * ldy + r, static_cast<size_t>(ldy));
      }
    }
  });
  // More than kMaxOutputs outputs: the rest in further calls (no caller needs this today).
  if (outs.size() > kMaxOutputs) {
    matmul_multi(pool, kernels, outs.subspan(kMaxOutputs), x, m, ldx, scratch);
  }
}

}  // namespace stemma::cpu
