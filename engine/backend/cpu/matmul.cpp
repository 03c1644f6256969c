#include "engine/backend/cpu/matmul.h"

#include <algorithm>
#include <new>
#include <string>

namespace stemma::cpu {
namespace {

// Cache budgets of one task of a packed matmul: the activation rows of a token chunk and the
// panels of a row group both stay in L2 while the tile loops run over them.
constexpr size_t kTokenChunkBytes = 192 * 1024;
constexpr size_t kPanelGroupBytes = 128 * 1024;
constexpr int64_t kTokenTile = 12;  // token chunks are multiples of every kernel's tile height

struct Plan {
  const Matrix* w = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;
  int format = 0;          // activation format index
  int64_t chunk = 0;       // packed: tokens per task
  int64_t group = 0;       // packed: panels per task; row-dot: rows per task
  int64_t row_blocks = 0;  // packed: panel groups; row-dot: row blocks
  int64_t tasks = 0;
};

int act_index(const Matrix& w) {
  return static_cast<int>(w.packed ? w.packed_act : w.kernel.act);
}

}  // namespace

Result<Matrix> make_matrix(const TensorView& t, const KernelTable& kernels, bool pack) {
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
  switch (pack ? packed_format(t.dtype) : PackedFormat::kNone) {
    case PackedFormat::kQ8_0:
      m.gemm = kernels.gemm_q8_0;
      m.packed_act = ActFormat::kQ32R;
      break;
    case PackedFormat::kQ4_K:
      m.gemm = kernels.gemm_q4_k;
      m.packed_act = ActFormat::kQ256;
      break;
    case PackedFormat::kQ6_K:
      m.gemm = kernels.gemm_q6_k;
      m.packed_act = ActFormat::kQ256;
      break;
    case PackedFormat::kNone:
      break;
  }
  if (m.gemm != nullptr) {
    try {
      m.packed = pack_matrix(t.dtype, t.data, m.row_stride, m.rows, m.cols);
    } catch (const std::bad_alloc&) {
      return ResourceExhausted("tensor " + t.name + ": out of memory repacking " +
                               std::to_string(m.rows) + " x " + std::to_string(m.cols) +
                               " weights");
    }
  }
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
  // More than kMaxOutputs outputs: the rest in further calls (no caller needs this today).
  constexpr size_t kMaxOutputs = 8;
  if (outs.size() > kMaxOutputs) {
    matmul_multi(pool, kernels, outs.first(kMaxOutputs), x, m, ldx, scratch);
    matmul_multi(pool, kernels, outs.subspan(kMaxOutputs), x, m, ldx, scratch);
    return;
  }
  const int64_t k = outs[0].w->cols;
  // Bring x into each activation format the weight kernels multiply with (usually one).
  bool need[kNumActFormats] = {};
  for (const MatmulOutput& o : outs) need[act_index(*o.w)] = true;
  const uint8_t* xa[kNumActFormats] = {reinterpret_cast<const uint8_t*>(x)};
  size_t xs[kNumActFormats] = {static_cast<size_t>(ldx) * sizeof(float)};
  size_t offset[kNumActFormats] = {};
  size_t total = 0;
  for (int f = 1; f < kNumActFormats; ++f) {
    if (!need[f]) continue;
    xs[f] = act_row_bytes(static_cast<ActFormat>(f), k);
    offset[f] = total;
    total += xs[f] * static_cast<size_t>(m);
  }
  if (total > 0) {
    if (scratch.size() < total) scratch.resize(total);
    uint8_t* q = scratch.data();
    auto quantize_row = [&](int64_t i, int) {
      const float* xi = x + i * ldx;
      if (need[static_cast<int>(ActFormat::kQ32)]) {
        const int f = static_cast<int>(ActFormat::kQ32);
        kernels.quantize_q32(k, xi, reinterpret_cast<ActQ32*>(q + offset[f] + i * xs[f]));
      }
      if (need[static_cast<int>(ActFormat::kQ256)]) {
        const int f = static_cast<int>(ActFormat::kQ256);
        kernels.quantize_q256(k, xi, reinterpret_cast<ActQ256*>(q + offset[f] + i * xs[f]));
      }
      if (need[static_cast<int>(ActFormat::kQ32R)]) {
        const int f = static_cast<int>(ActFormat::kQ32R);
        kernels.quantize_q32r(k, xi, reinterpret_cast<ActQ32R*>(q + offset[f] + i * xs[f]));
      }
    };
    if (m >= 4) {
      pool.parallel_for(m, quantize_row);
    } else {
      for (int64_t i = 0; i < m; ++i) quantize_row(i, 0);
    }
    for (int f = 1; f < kNumActFormats; ++f) xa[f] = q + offset[f];
  }

  // Tasks. Packed matrices: (token chunk, panel group) pairs sized so that both stay in L2,
  // split further until every thread has several tasks (dynamic balancing on busy cores).
  // Others: blocks of weight rows, each read once per group of kMaxRowDotX x rows.
  const int64_t threads = pool.size();
  Plan plans[kMaxOutputs];
  int64_t row_rows = 0, packed_panels = 0;
  for (const MatmulOutput& o : outs) {
    if (o.w->packed) {
      packed_panels += o.w->packed->panels;
    } else {
      row_rows += o.w->rows;
    }
  }
  const int64_t target_tasks = threads * 8;
  int64_t first_task[kMaxOutputs + 1] = {};
  for (size_t i = 0; i < outs.size(); ++i) {
    Plan& p = plans[i];
    p.w = outs[i].w;
    p.y = outs[i].y;
    p.ldy = outs[i].ldy;
    p.format = act_index(*p.w);
    if (p.w->packed) {
      const PackedMatrix& pm = *p.w->packed;
      int64_t chunk = m;
      if (m > kTokenTile) {
        chunk = static_cast<int64_t>(kTokenChunkBytes / xs[p.format]);
        chunk = std::clamp<int64_t>(chunk / kTokenTile * kTokenTile, kTokenTile, 512);
        chunk = std::min(chunk, m);
      }
      const int64_t chunks = (m + chunk - 1) / chunk;
      int64_t group = std::clamp<int64_t>(
          static_cast<int64_t>(kPanelGroupBytes / std::max<size_t>(pm.panel_bytes, 1)), 1, 16);
      // Enough tasks overall: this matrix's share of target_tasks.
      const int64_t want =
          std::max<int64_t>(1, target_tasks * pm.panels / std::max<int64_t>(packed_panels, 1));
      while (group > 1 && chunks * ((pm.panels + group - 1) / group) < want)
        group = (group + 1) / 2;
      p.chunk = chunk;
      p.group = group;
      p.row_blocks = (pm.panels + group - 1) / group;
      p.tasks = chunks * p.row_blocks;
    } else {
      int64_t rows_per_task = std::max<int64_t>(8, (row_rows + target_tasks - 1) / target_tasks);
      if (m > 1) rows_per_task = std::min<int64_t>(rows_per_task, 32);
      p.group = rows_per_task;
      p.row_blocks = (p.w->rows + rows_per_task - 1) / rows_per_task;
      p.tasks = p.row_blocks;
    }
    first_task[i + 1] = first_task[i] + p.tasks;
  }

  pool.parallel_for(first_task[outs.size()], [&](int64_t task, int) {
    size_t o = 0;
    while (task >= first_task[o + 1]) ++o;
    const Plan& p = plans[o];
    const Matrix& w = *p.w;
    const int f = p.format;
    const int64_t local = task - first_task[o];
    if (w.packed) {
      const PackedMatrix& pm = *w.packed;
      const int64_t c = local / p.row_blocks, g = local % p.row_blocks;
      const int64_t t0 = c * p.chunk, t1 = std::min(m, t0 + p.chunk);
      const int64_t p0 = g * p.group, p1 = std::min(pm.panels, p0 + p.group);
      w.gemm(pm.panel(p0), pm.panel_bytes, p1 - p0, k, w.rows - p0 * kPanelRows,
             xa[f] + static_cast<size_t>(t0) * xs[f], xs[f], t1 - t0,
             p.y + t0 * p.ldy + p0 * kPanelRows, static_cast<size_t>(p.ldy));
      return;
    }
    const int64_t r0 = local * p.group;
    const int64_t r1 = std::min(w.rows, r0 + p.group);
    for (int64_t i = 0; i < m; i += kMaxRowDotX) {
      const int nx = static_cast<int>(std::min<int64_t>(kMaxRowDotX, m - i));
      for (int64_t r = r0; r < r1; ++r) {
        w.kernel.dot(k, w.row(r), xa[f] + static_cast<size_t>(i) * xs[f], xs[f], nx,
                     p.y + i * p.ldy + r, static_cast<size_t>(p.ldy));
      }
    }
  });
}

}  // namespace stemma::cpu
