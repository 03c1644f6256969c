// Paged attention work-item kernel (see paged_attention.h).
//
// A block runs one item for one KV head. It stages 64-token tiles of K and V in shared memory
// with cp.async (kStages deep) and computes with mma.sync m16n8k16 (fp32 accumulate). The 4 warps
// split the work as row_tiles x kv_splits: with <= 16 query rows (plain decode) each warp takes
// one 16-token sub-tile of every stage (split-KV inside the block); with up to 64 rows (shared
// prefix, prefill) each warp owns 16 rows and reads every sub-tile, so each KV byte loaded from
// memory serves all of them. Warps that share rows merge their softmax states at the end.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <atomic>
#include <cstdint>

#include "kernels/paged_attention.h"
#include "kernels/wgmma.cuh"

namespace stemma::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kSubTokens = 16;
constexpr int kSubPerStage = 4;
constexpr int kStageTokens = kSubTokens * kSubPerStage;
constexpr int kStages = 3;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kNegBig = -1e30f;  // finite "minus infinity" keeps exp2(m_old - m_new) NaN-free

template <typename T>
struct MmaTraits;
template <>
struct MmaTraits<__half> {
  __device__ static uint32_t pack(float lo, float hi) {
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
  __device__ static void mma(float* c, const uint32_t* a, const uint32_t* b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};
template <>
struct MmaTraits<__nv_bfloat16> {
  __device__ static uint32_t pack(float lo, float hi) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
  __device__ static void mma(float* c, const uint32_t* a, const uint32_t* b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

// 2^x on the special-function unit, denormal results flushed to zero (softmax weights that
// small do not matter); exp2f's denormal handling costs a compare and two multiplies each.
__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte async copy; src_bytes == 0 zero-fills (positions past the range must read as 0, not
// as stale data that could be NaN and poison P*V).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// A tile of 64 rows (tokens, or query rows) x D elements is stored as D/64 column blocks of
// 64 x 64 elements; a row of a block is 128 bytes = 8 16-byte chunks, and chunk c of row r sits
// at c ^ (r & 7). That is the 128-byte swizzle wgmma reads (K-major for Q and K, MN-major for V;
// 1024-byte aligned atoms of 8 rows), and ldmatrix's 8 row reads of one chunk hit 8 different
// bank groups.
constexpr int kTileRows = 64;
constexpr int kBlockCols = 64;  // elements per swizzled row (128 bytes of 16-bit values)
template <int D>
__device__ __forceinline__ int swz(int row, int chunk) {
  return (chunk >> 3) * kTileRows * kBlockCols + row * kBlockCols +
         (((chunk & 7) ^ (row & 7)) << 3);
}

static_assert(kStageTokens == kTileRows && kPagedAttnMaxRows == kTileRows,
              "stages and the Q tile are 64-row swizzled tiles");

template <typename T, int D>
struct Smem {
  T q[kPagedAttnMaxRows * D];
  T k[kStages][kStageTokens * D];
  T v[kStages][kStageTokens * D];
};

template <int D>
struct WarpState {
  float m[2];  // running max (log2 domain) of rows r0, r1
  float l[2];  // this thread's partial row sums
  float o[D / 8][4];
};

struct StageArgs {
  int ts_lane;     // token (segment-relative) of this thread's first score column in the stage
  int last[2];     // last token rows r0, r1 may attend (segment end and causal limit)
  bool need_mask;  // some score of this warp's stage lies past last[]
  float scale_log2;
};

// The online-softmax step on a warp's scores sc (16 rows x 16*NS tokens, mma accumulator
// layout, unscaled): mask (kMask), update the running max (log2 domain) and sum, rescale O, and
// leave exp2(s * scale - m) in sc. The scale is folded into one FMA per score; the mask is a
// template branch so that unmasked stages, almost all of them, issue none of its instructions.
template <int D, int NS, bool kMask>
__device__ __forceinline__ void softmax_update(float (&sc)[2 * NS][4], const StageArgs& a,
                                               WarpState<D>& st) {
  if constexpr (kMask) {
#pragma unroll
    for (int n = 0; n < 2 * NS; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        if (a.ts_lane + n * 8 + (e & 1) > a.last[e >> 1]) sc[n][e] = -INFINITY;
      }
    }
  }
  // Tree reductions and split sums: the compiler keeps float operations in source order, so a
  // running max or sum would be one dependent chain per row (the warp then waits on latency).
  constexpr int kN = 2 * NS;
  float tm[2][kN];
#pragma unroll
  for (int n = 0; n < kN; ++n) {
    tm[0][n] = fmaxf(sc[n][0], sc[n][1]);
    tm[1][n] = fmaxf(sc[n][2], sc[n][3]);
  }
#pragma unroll
  for (int w = kN / 2; w >= 1; w /= 2) {
#pragma unroll
    for (int n = 0; n < w; ++n) {
      tm[0][n] = fmaxf(tm[0][n], tm[0][n + w]);
      tm[1][n] = fmaxf(tm[1][n], tm[1][n + w]);
    }
  }
  float mx[2] = {tm[0][0], tm[1][0]};
  float corr[2], neg_m[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
    const float m_new = fmaxf(st.m[h], mx[h] * a.scale_log2);  // scale > 0 keeps the order
    corr[h] = exp2_approx(st.m[h] - m_new);
    st.m[h] = m_new;
    neg_m[h] = -m_new;
  }
  constexpr int kParts = kN < 4 ? kN : 4;
  float ls[2][kParts] = {};
#pragma unroll
  for (int n = 0; n < kN; ++n) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int h = e >> 1;
      sc[n][e] = exp2_approx(fmaf(sc[n][e], a.scale_log2, neg_m[h]));
      ls[h][n % kParts] += sc[n][e];
    }
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float sum = ls[h][0];
#pragma unroll
    for (int i = 1; i < kParts; ++i) sum += ls[h][i];
    st.l[h] = st.l[h] * corr[h] + sum;
  }
  // Once the running maxima settle, corr is 1 for the whole warp: skip the rescale of O.
  if (__any_sync(0xffffffffu, corr[0] != 1.f || corr[1] != 1.f)) {
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      st.o[n][0] *= corr[0];
      st.o[n][1] *= corr[0];
      st.o[n][2] *= corr[1];
      st.o[n][3] *= corr[1];
    }
  }
}

template <int D, int NS>
__device__ __forceinline__ void softmax_step(float (&sc)[2 * NS][4], const StageArgs& a,
                                             WarpState<D>& st) {
  if (a.need_mask) {
    softmax_update<D, NS, true>(sc, a, st);
  } else {
    softmax_update<D, NS, false>(sc, a, st);
  }
}

// P (accumulator layout, tokens 16j..16j+15) packed as the A operand of the P V product.
template <typename T, int NS>
__device__ __forceinline__ void pack_p(const float (&sc)[2 * NS][4], int j, uint32_t (&pa)[4]) {
  pa[0] = MmaTraits<T>::pack(sc[2 * j][0], sc[2 * j][1]);
  pa[1] = MmaTraits<T>::pack(sc[2 * j][2], sc[2 * j][3]);
  pa[2] = MmaTraits<T>::pack(sc[2 * j + 1][0], sc[2 * j + 1][1]);
  pa[3] = MmaTraits<T>::pack(sc[2 * j + 1][2], sc[2 * j + 1][3]);
}

// One warp attends its 16 query rows to NS consecutive 16-token sub-tiles of the staged K/V:
// S = Q K^T (16 x 16*NS), one online-softmax update, O += P V. Doing NS sub-tiles per update
// amortises the rescale of O and gives the tensor cores 2*NS independent chains.
template <typename T, int D, int NS>
__device__ __forceinline__ void attend_tiles(const T* ktile, const T* vtile, int sub0,
                                             const uint32_t (&qf)[D / 16][4], const StageArgs& a,
                                             WarpState<D>& st) {
  const int lane = threadIdx.x & 31;
  const int mi = lane >> 3;
  float sc[2 * NS][4];
#pragma unroll
  for (int n = 0; n < 2 * NS; ++n) sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.f;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const uint32_t* qa = qf[kk];
#pragma unroll
    for (int j = 0; j < NS; ++j) {
      uint32_t b[4];
      const int tr = (sub0 + j) * kSubTokens + (mi >> 1) * 8 + (lane & 7);
      ldmatrix_x4(b, &ktile[swz<D>(tr, kk * 2 + (mi & 1))]);
      MmaTraits<T>::mma(sc[2 * j], qa, b);
      MmaTraits<T>::mma(sc[2 * j + 1], qa, b + 2);
    }
  }
  softmax_step<D, NS>(sc, a, st);
  // O += P V: P's accumulator layout is the A-operand layout of the next mma.
#pragma unroll
  for (int j = 0; j < NS; ++j) {
    uint32_t pa[4];
    pack_p<T, NS>(sc, j, pa);
#pragma unroll
    for (int n2 = 0; n2 < D / 16; ++n2) {
      uint32_t b[4];
      const int tr = (sub0 + j) * kSubTokens + (mi & 1) * 8 + (lane & 7);
      ldmatrix_x4_trans(b, &vtile[swz<D>(tr, n2 * 2 + (mi >> 1))]);
      MmaTraits<T>::mma(st.o[2 * n2], pa, b);
      MmaTraits<T>::mma(st.o[2 * n2 + 1], pa, b + 2);
    }
  }
}

// The block (one warpgroup) attends all 64 query rows to the whole 64-token stage with wgmma:
// S = Q K^T reads Q and K straight from their swizzled tiles (each K byte read from shared
// memory once for 64 rows, where mma.sync reads it once per 16), then the same softmax per warp,
// then O += P V with P from registers and V read as an MN-major tile.
template <typename T, int D>
__device__ __forceinline__ void attend_tile_wgmma(uint32_t q_desc, uint32_t k_desc, uint32_t v_desc,
                                                  const StageArgs& a, WarpState<D>& st) {
  constexpr uint32_t kBlockUnits = kTileRows * kBlockCols * 2 / 16;   // a 64 x 64 column block
  constexpr uint32_t kHi = wgmma::desc_hi_sw128(8 * kBlockCols * 2);  // 8 rows: 1024 bytes
  float sc[8][4];
  wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const uint32_t off = (kk >> 2) * kBlockUnits + (kk & 3) * 2;  // 16 columns = 32 bytes
    wgmma::Ops<T>::ss_n64(sc, wgmma::desc(q_desc + off, kHi), wgmma::desc(k_desc + off, kHi),
                          kk > 0);
  }
  wgmma::commit();
  wgmma::pin(sc);
  wgmma::wait<0>();
  wgmma::pin(sc);
  softmax_step<D, 4>(sc, a, st);
  uint32_t pa[4][4];
#pragma unroll
  for (int j = 0; j < 4; ++j) pack_p<T, 4>(sc, j, pa[j]);
  wgmma::fence();
  wgmma::pin(st.o);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const uint64_t dv = wgmma::desc(v_desc + j * kSubTokens * kBlockCols * 2 / 16, kHi);
    if constexpr (D == 128) {
      wgmma::Ops<T>::rs_n128(st.o, pa[j], dv, 1);
    } else {
      wgmma::Ops<T>::rs_n64(st.o, pa[j], dv, 1);
    }
  }
  wgmma::commit();
  wgmma::pin(st.o);
  wgmma::wait<0>();
  wgmma::pin(st.o);
}

// kWgmma: items with more than 32 query rows run on wgmma (attend_tile_wgmma); otherwise, and
// for every item when false (PagedAttnParams::mma_sync_only), on mma.sync.
template <typename T, int D, bool kWgmma>
__global__ void __launch_bounds__(kThreads, 2) paged_attention_kernel(PagedAttnParams p) {
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  auto& sm = *reinterpret_cast<Smem<T, D>*>(smem_raw);

  // Lets the merge kernel (a programmatic dependent, launch_merge_states) launch once every
  // block has started; it waits for this grid's completion before reading any state.
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
  const PagedAttnItem item = p.items[blockIdx.x];
  const int kv_head = blockIdx.y;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int rows = item.num_members * group;
  if (rows <= 0 || rows > kPagedAttnMaxRows || item.kv_end <= item.kv_begin) return;  // bad plan
  const int row_tiles = rows <= 16 ? 1 : (rows <= 32 ? 2 : 4);
  // wgmma's swizzle is a function of the address: the tiles must sit on 1024-byte boundaries
  // (they do when the dynamic shared memory starts the block's window, as it does here).
  const bool wgmma_rows = kWgmma && row_tiles == 4 && (smem_addr(smem_raw) & 1023) == 0;
  const int kv_splits = kWarps / row_tiles;  // warps that share a row tile
  const int tid = threadIdx.x;
  const int warp = tid >> 5;
  const int lane = tid & 31;
  const int rt = warp % row_tiles;
  const int ks = warp / row_tiles;

  const T* q = static_cast<const T*>(p.q);
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  const int64_t head_off = static_cast<int64_t>(kv_head) * p.page_size * D;

  // Q rows of this item: row r = member r / group, head kv_head * group + r % group.
  for (int i = tid; i < row_tiles * 16 * kChunks; i += kThreads) {
    const int r = i / kChunks, c = i % kChunks;
    const T* src = q;
    int bytes = 0;
    if (r < rows) {
      const int m = r / group;
      const int tok = p.member_token[item.member_offset + m];
      src = q + tok * p.q_token_stride + static_cast<int64_t>(kv_head * group + r % group) * D +
            c * 8;
      bytes = 16;
    }
    cp_async16(&sm.q[swz<D>(r, c)], src, bytes);
  }
  cp_async_commit();

  const int num_stages = (item.kv_end - item.kv_begin + kStageTokens - 1) / kStageTokens;
  // Each thread copies chunk tid % kChunks of rows r0 + kRowsPerPass * j (j < kLoadRows) of every
  // stage. A stage is kGroups 16-token groups; a group lies inside one page (kv_begin and page
  // sizes are multiples of 16), so a stage needs kGroups page ids, fetched one stage before their
  // copies are issued (the dependent global load stays off the critical path). The group cursor
  // advances by whole stages without dividing: decode is bound by the instructions issued per
  // staged byte, and a runtime division per row cost about a third of them.
  constexpr int kLoadRows = kStageTokens * kChunks / kThreads;
  constexpr int kRowsPerPass = kThreads / kChunks;  // 8 (D = 128) or 16 (D = 64)
  constexpr int kGroups = kStageTokens / kSubTokens;
  static_assert(kThreads % kChunks == 0, "a thread keeps one chunk column");
  static_assert(kRowsPerPass % 8 == 0 && kSubTokens % kRowsPerPass == 0,
                "a thread's rows keep one swizzle phase and stay inside their 16-token group");
  const int my_chunk = tid % kChunks;
  const int r0 = tid / kChunks;
  const int64_t thread_src = head_off + static_cast<int64_t>(r0) * D + my_chunk * 8;
  // swz<D>(r0 + row, my_chunk) for row a multiple of 8: the swizzle phase stays r0's.
  const int thread_dst = swz<D>(r0, my_chunk);
  const int stage_pages = kStageTokens / p.page_size;  // whole pages a stage advances
  const int stage_slots = kStageTokens % p.page_size;  // plus these slots
  int cur_page[kGroups], cur_slot[kGroups];            // the next stage to fetch, per group
#pragma unroll
  for (int g = 0; g < kGroups; ++g) {
    const int t = item.kv_begin + g * kSubTokens;
    cur_page[g] = t / p.page_size;
    cur_slot[g] = t % p.page_size;
  }
  int fetched_page[kGroups], fetched_slot[kGroups];
  int fetch_stage = 0;
  auto fetch_pages = [&]() {
    const int t0 = item.kv_begin + fetch_stage * kStageTokens;
#pragma unroll
    for (int g = 0; g < kGroups; ++g) {
      const bool live = fetch_stage < num_stages && t0 + g * kSubTokens < item.kv_end;
      fetched_page[g] = live ? p.page_ids[item.page_offset + cur_page[g]] : -1;
      fetched_slot[g] = cur_slot[g];
      cur_page[g] += stage_pages;
      cur_slot[g] += stage_slots;
      if (cur_slot[g] >= p.page_size) {
        cur_slot[g] -= p.page_size;
        ++cur_page[g];
      }
    }
    ++fetch_stage;
  };
  // A row past the range copies nothing (src size 0 zero-fills); its address stays inside a live
  // page (or page 0 for a group wholly past the range: fetched_page -1), so the row
  // offsets within a group are constants the copy instruction carries.
  auto load_stage = [&](int s, int buf) {
    const int rows_left = item.kv_end - (item.kv_begin + s * kStageTokens) - r0;
    const T* group_k[kGroups];
    const T* group_v[kGroups];
#pragma unroll
    for (int g = 0; g < kGroups; ++g) {
      // max(page, 0): a group past the range points into page 0 (never read, src size 0).
      const int64_t off = static_cast<int64_t>(max(fetched_page[g], 0)) * p.page_stride +
                          static_cast<int64_t>(fetched_slot[g]) * D + thread_src;
      group_k[g] = kc + off;
      group_v[g] = vc + off;
    }
    T* k_dst = &sm.k[buf][thread_dst];
    T* v_dst = &sm.v[buf][thread_dst];
#pragma unroll
    for (int j = 0; j < kLoadRows; ++j) {
      const int row = j * kRowsPerPass;  // + r0
      const int g = row / kSubTokens;
      const int in_group = row % kSubTokens;
      const int bytes = row < rows_left ? 16 : 0;
      cp_async16(k_dst + row * kBlockCols, group_k[g] + in_group * D, bytes);
      cp_async16(v_dst + row * kBlockCols, group_v[g] + in_group * D, bytes);
    }
  };
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    fetch_pages();
    load_stage(s, s);
    cp_async_commit();
  }
  fetch_pages();

  // Per-thread softmax state for rows r0 = lane/4 and r1 = r0 + 8 of this warp's row tile.
  WarpState<D> st;
  st.m[0] = st.m[1] = kNegBig;
  st.l[0] = st.l[1] = 0.f;
#pragma unroll
  for (int n = 0; n < D / 8; ++n) st.o[n][0] = st.o[n][1] = st.o[n][2] = st.o[n][3] = 0.f;

  // The last token (segment-relative) each of this thread's two rows may attend: the range's
  // end, or the causal limit of the row's query; padding rows see the whole range (their
  // results are never written).
  int last[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = rt * 16 + (lane >> 2) + h * 8;
    last[h] = item.kv_end - 1;
    if (r < rows) {
      last[h] = min(last[h], p.member_pos[item.member_offset + r / group] - item.kv_pos_offset);
    }
  }
  int warp_last = min(last[0], last[1]);
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    warp_last = min(warp_last, __shfl_xor_sync(0xffffffffu, warp_last, off));
  }
  const float scale_log2 = p.sm_scale * kLog2e;

  uint32_t qf[D / 16][4] = {};
  // wgmma descriptors (low words) of the Q tile and of the first stage's K and V tiles.
  const uint32_t q_desc = wgmma::desc_lo(sm.q, 16);
  const uint32_t k_desc = wgmma::desc_lo(sm.k[0], 16);
  const uint32_t v_desc = wgmma::desc_lo(sm.v[0], kTileRows * kBlockCols * 2);
  // This warp's sub-tiles of each stage: row_tiles consecutive ones starting at ks * row_tiles.
  const int sub0 = ks * row_tiles;

  if (!wgmma_rows) {               // mma.sync keeps this warp's Q fragments in registers
    cp_async_wait<kStages - 1>();  // the Q group, committed first
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const int mi = lane >> 3;
      const int r = rt * 16 + (mi & 1) * 8 + (lane & 7);
      ldmatrix_x4(qf[kk], &sm.q[swz<D>(r, kk * 2 + (mi >> 1))]);
    }
  }
  // One barrier per stage: after it every warp is done with stage s - 1, whose buffer the copy
  // of stage s + kStages - 1 then refills.
  for (int s = 0, buf = 0; s < num_stages; ++s, buf = buf == kStages - 1 ? 0 : buf + 1) {
    cp_async_wait<kStages - 2>();  // stage s (and the Q rows, the first group) has landed
    if (wgmma_rows) wgmma::fence_proxy_async();  // cp.async wrote it; wgmma reads it async
    __syncthreads();
    // Stage s + 2 goes to the buffer of stage s - 1: (buf + 2) % 3.
    static_assert(kStages == 3, "the buffer rotation below assumes three stages");
    if (s + kStages - 1 < num_stages) load_stage(s + kStages - 1, buf == 0 ? 2 : buf - 1);
    cp_async_commit();
    fetch_pages();  // stage s + kStages
    const int ts = item.kv_begin + s * kStageTokens + sub0 * kSubTokens;
    if (ts < item.kv_end) {
      const int ts_end = ts + row_tiles * kSubTokens;
      StageArgs a;
      a.ts_lane = ts + (lane & 3) * 2;
      a.last[0] = last[0];
      a.last[1] = last[1];
      a.need_mask = ts_end - 1 > warp_last;
      a.scale_log2 = scale_log2;
      const T* kt = &sm.k[buf][0];
      const T* vt = &sm.v[buf][0];
      if (wgmma_rows) {
        const uint32_t stage_units = buf * (kStageTokens * D * 2 / 16);
        attend_tile_wgmma<T, D>(q_desc, k_desc + stage_units, v_desc + stage_units, a, st);
      } else if (row_tiles == 4) {
        attend_tiles<T, D, 4>(kt, vt, sub0, qf, a, st);
      } else if (row_tiles == 2) {
        attend_tiles<T, D, 2>(kt, vt, sub0, qf, a, st);
      } else {
        attend_tiles<T, D, 1>(kt, vt, sub0, qf, a, st);
      }
    }
  }
  cp_async_wait<0>();
  __syncthreads();

  float l_run[2], m_run[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l_run[h] = st.l[h] + __shfl_xor_sync(0xffffffffu, st.l[h], 1);
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 2);
    m_run[h] = st.m[h];
  }

  if (kv_splits == 1) {
    // Each warp owns its 16 rows: write them straight from registers.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = rt * 16 + (lane >> 2) + h * 8;
      if (r >= rows) continue;
      const int m = r / group;
      const int head = kv_head * group + (r - m * group);
      const int64_t slot = item.state_offset + m;
      const float inv = l_run[h] > 0.f ? 1.f / l_run[h] : 0.f;
      float* dst = p.state_o + (slot * p.num_q_heads + head) * D + (lane & 3) * 2;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        *reinterpret_cast<float2*>(dst + n * 8) =
            make_float2(st.o[n][2 * h] * inv, st.o[n][2 * h + 1] * inv);
      }
      if ((lane & 3) == 0) {
        p.state_lse[slot * p.num_q_heads + head] =
            l_run[h] > 0.f ? m_run[h] + log2f(l_run[h]) : -INFINITY;
      }
    }
    return;
  }

  // Merge the warps that share a row tile through shared memory (the stage buffers are free).
  float* red_o = reinterpret_cast<float*>(smem_raw);  // [warp][16][D]
  float* red_m = red_o + kWarps * 16 * D;             // [warp][16]
  float* red_l = red_m + kWarps * 16;
  {
    const int r0 = lane >> 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      const int c = n * 8 + (lane & 3) * 2;
      red_o[(warp * 16 + r0) * D + c] = st.o[n][0];
      red_o[(warp * 16 + r0) * D + c + 1] = st.o[n][1];
      red_o[(warp * 16 + r0 + 8) * D + c] = st.o[n][2];
      red_o[(warp * 16 + r0 + 8) * D + c + 1] = st.o[n][3];
    }
    if ((lane & 3) == 0) {
      red_m[warp * 16 + r0] = m_run[0];
      red_m[warp * 16 + r0 + 8] = m_run[1];
      red_l[warp * 16 + r0] = l_run[0];
      red_l[warp * 16 + r0 + 8] = l_run[1];
    }
  }
  __syncthreads();
  for (int i = tid; i < rows * D; i += kThreads) {
    const int r = i / D, d = i % D;
    const int rtile = r / 16, rr = r % 16;
    float mmax = kNegBig;
    for (int k = 0; k < kv_splits; ++k)
      mmax = fmaxf(mmax, red_m[(k * row_tiles + rtile) * 16 + rr]);
    float lsum = 0.f, acc = 0.f;
    for (int k = 0; k < kv_splits; ++k) {
      const int w = k * row_tiles + rtile;
      const float wgt = exp2f(red_m[w * 16 + rr] - mmax);
      lsum += red_l[w * 16 + rr] * wgt;
      acc += red_o[(w * 16 + rr) * D + d] * wgt;
    }
    const int m = r / group;
    const int head = kv_head * group + r % group;
    const int64_t slot = item.state_offset + m;
    p.state_o[(slot * p.num_q_heads + head) * D + d] = lsum > 0.f ? acc / lsum : 0.f;
    if (d == 0) {
      p.state_lse[slot * p.num_q_heads + head] = lsum > 0.f ? mmax + log2f(lsum) : -INFINITY;
    }
  }
}

// Two blocks of 112 KB fit an SM only if the driver gives shared memory the whole carve-out.
template <typename T, int D, bool kWgmma>
cudaError_t configure() {
  const int smem = static_cast<int>(sizeof(Smem<T, D>));
  cudaError_t err = cudaFuncSetAttribute(paged_attention_kernel<T, D, kWgmma>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (err != cudaSuccess) return err;
  return cudaFuncSetAttribute(paged_attention_kernel<T, D, kWgmma>,
                              cudaFuncAttributePreferredSharedMemoryCarveout,
                              cudaSharedmemCarveoutMaxShared);
}

template <typename T, int D>
int blocks_per_sm() {
  if (configure<T, D, false>() != cudaSuccess) return 0;
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, paged_attention_kernel<T, D, false>,
                                                    kThreads, sizeof(Smem<T, D>)) != cudaSuccess) {
    return 0;
  }
  return n;
}

// configure() once per device and kernel instantiation: the two attribute calls cost several
// microseconds of host time, which a batch-1 decode launch (tens of microseconds) would pay on
// every call.
template <typename T, int D, bool kWgmma>
cudaError_t configure_once() {
  constexpr int kMaxDevices = 64;
  static std::atomic<bool> done[kMaxDevices];
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) return err;
  if (device < 0 || device >= kMaxDevices) return configure<T, D, kWgmma>();
  if (done[device].load(std::memory_order_acquire)) return cudaSuccess;
  err = configure<T, D, kWgmma>();  // idempotent: racing first callers all set the same values
  if (err == cudaSuccess) done[device].store(true, std::memory_order_release);
  return err;
}

template <typename T, int D, bool kWgmma>
cudaError_t launch_one(const PagedAttnParams& p, cudaStream_t stream) {
  const int smem = static_cast<int>(sizeof(Smem<T, D>));
  static_assert(sizeof(Smem<T, D>) >= (kWarps * 16 * D + 2 * kWarps * 16) * sizeof(float),
                "reduction scratch must fit in the stage buffers");
  cudaError_t err = configure_once<T, D, kWgmma>();
  if (err != cudaSuccess) return err;
  dim3 grid(static_cast<unsigned>(p.num_items), static_cast<unsigned>(p.num_kv_heads));
  paged_attention_kernel<T, D, kWgmma><<<grid, kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

template <typename T, int D>
cudaError_t launch_typed(const PagedAttnParams& p, cudaStream_t stream) {
  return p.mma_sync_only ? launch_one<T, D, false>(p, stream) : launch_one<T, D, true>(p, stream);
}

}  // namespace

int paged_attention_blocks_per_sm(DType dtype, int32_t head_dim) {
  if (dtype == DType::kF16) {
    return head_dim == 128 ? blocks_per_sm<__half, 128>() : blocks_per_sm<__half, 64>();
  }
  return head_dim == 128 ? blocks_per_sm<__nv_bfloat16, 128>() : blocks_per_sm<__nv_bfloat16, 64>();
}

cudaError_t launch_paged_attention(const PagedAttnParams& p, cudaStream_t stream) {
  if (p.num_items == 0) return cudaSuccess;
  if (p.num_kv_heads <= 0 || p.num_q_heads % p.num_kv_heads != 0 || p.page_size <= 0 ||
      p.page_size % kSubTokens != 0 || p.num_q_heads / p.num_kv_heads > kPagedAttnMaxRows) {
    return cudaErrorInvalidValue;
  }
  if (p.dtype == DType::kF16) {
    if (p.head_dim == 128) return launch_typed<__half, 128>(p, stream);
    if (p.head_dim == 64) return launch_typed<__half, 64>(p, stream);
  } else {
    if (p.head_dim == 128) return launch_typed<__nv_bfloat16, 128>(p, stream);
    if (p.head_dim == 64) return launch_typed<__nv_bfloat16, 64>(p, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace stemma::kernels
