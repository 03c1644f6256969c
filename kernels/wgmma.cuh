// Hopper warpgroup MMA (wgmma, sm_90a) for the paged attention kernel: the shared-memory
// matrix descriptor of a 128-byte-swizzled tile, the fence / commit / wait of the async
// pipeline, and the three shapes the kernel issues (m64n64k16 with both operands in shared
// memory; m64n64k16 and m64n128k16 with A in registers). Operand layouts: PTX ISA, "Asynchronous
// Warpgroup Level Matrix Multiply-Accumulate"; per warp, A fragments and accumulators are laid
// out as mma.sync.m16n8k16's, the warp holding rows 16 * (warp % 4) to 16 * (warp % 4) + 15.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace stemma::kernels::wgmma {

// Descriptor of a tile in shared memory with the 128-byte swizzle (atoms of 8 rows x 128 bytes,
// 1024-byte aligned), as a low word (start address and leading byte offset) and a high word
// (stride byte offset and the swizzle mode). For a K-major operand the stride is between 8-row
// groups and the leading offset is unused; for an MN-major one the leading offset steps to the
// next 64 MN elements and the stride to the next 8 K rows. Moving the start by b bytes adds
// b / 16 to the low word (no carry: shared addresses stay below 2^18).
__device__ __forceinline__ uint32_t desc_lo(const void* smem, uint32_t lbo_bytes) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  return ((addr & 0x3FFFF) >> 4) | (((lbo_bytes & 0x3FFFF) >> 4) << 16);
}
__host__ __device__ constexpr uint32_t desc_hi_sw128(uint32_t sbo_bytes) {
  return ((sbo_bytes & 0x3FFFF) >> 4) | (1u << 30);  // bits 62-63 of the descriptor: 1 = 128B
}
__device__ __forceinline__ uint64_t desc(uint32_t lo, uint32_t hi) {
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Orders this thread's register writes (accumulators, A fragments) before the next wgmma.
__device__ __forceinline__ void fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Makes generic-proxy writes to shared memory (cp.async, st.shared) visible to wgmma's reads.
__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
// Keeps the compiler from moving reads or writes of accumulators across commit / wait: the
// wgmma asm statements define them when issued, the hardware when waited for.
template <int N>
__device__ __forceinline__ void pin(float (&d)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
    asm volatile("" : "+f"(d[i][0]), "+f"(d[i][1]), "+f"(d[i][2]), "+f"(d[i][3])::"memory");
  }
}

template <typename T>
struct Ops;

// The four accumulators of one 8-column block, as asm operands.
#define STEMMA_WGMMA_ACC(d, i) "+f"(d[i][0]), "+f"(d[i][1]), "+f"(d[i][2]), "+f"(d[i][3])

// The three shapes for one 16-bit input type (TY: its PTX name).
#define STEMMA_WGMMA_OPS(T, TY)                                                                   \
  template <>                                                                                     \
  struct Ops<T> {                                                                                 \
    /* S = A B^T-style product of two K-major shared-memory tiles: m64n64k16. */                  \
    static __device__ __forceinline__ void ss_n64(float (&d)[8][4], uint64_t desc_a,              \
                                                  uint64_t desc_b, int scale_d) {                 \
      asm volatile(                                                                               \
          "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"                                            \
          "wgmma.mma_async.sync.aligned.m64n64k16.f32." TY "." TY                                 \
          " {%0, %1, %2, %3, %4, %5, %6, %7, %8, "                                                \
          "%9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, "  \
          "%26, "                                                                                 \
          "%27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 0;\n}\n"                               \
          : STEMMA_WGMMA_ACC(d, 0), STEMMA_WGMMA_ACC(d, 1), STEMMA_WGMMA_ACC(d, 2),               \
            STEMMA_WGMMA_ACC(d, 3), STEMMA_WGMMA_ACC(d, 4), STEMMA_WGMMA_ACC(d, 5),               \
            STEMMA_WGMMA_ACC(d, 6), STEMMA_WGMMA_ACC(d, 7)                                        \
          : "l"(desc_a), "l"(desc_b), "r"(scale_d));                                              \
    }                                                                                             \
    /* D += A (registers) x B (MN-major shared-memory tile): m64n64k16 / m64n128k16. */           \
    static __device__ __forceinline__ void rs_n64(float (&d)[8][4], const uint32_t (&a)[4],       \
                                                  uint64_t desc_b, int scale_d) {                 \
      asm volatile(                                                                               \
          "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"                                            \
          "wgmma.mma_async.sync.aligned.m64n64k16.f32." TY "." TY                                 \
          " {%0, %1, %2, %3, %4, %5, %6, %7, %8, "                                                \
          "%9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, "  \
          "%26, "                                                                                 \
          "%27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"                 \
          : STEMMA_WGMMA_ACC(d, 0), STEMMA_WGMMA_ACC(d, 1), STEMMA_WGMMA_ACC(d, 2),               \
            STEMMA_WGMMA_ACC(d, 3), STEMMA_WGMMA_ACC(d, 4), STEMMA_WGMMA_ACC(d, 5),               \
            STEMMA_WGMMA_ACC(d, 6), STEMMA_WGMMA_ACC(d, 7)                                        \
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d));               \
    }                                                                                             \
    static __device__ __forceinline__ void rs_n128(float (&d)[16][4], const uint32_t (&a)[4],     \
                                                   uint64_t desc_b, int scale_d) {                \
      asm volatile(                                                                               \
          "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"                                            \
          "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY                                \
          " {%0, %1, %2, %3, %4, %5, %6, %7, %8, "                                                \
          "%9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, "  \
          "%26, "                                                                                 \
          "%27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, " \
          "%44, "                                                                                 \
          "%45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, " \
          "%62, "                                                                                 \
          "%63}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"                                     \
          : STEMMA_WGMMA_ACC(d, 0), STEMMA_WGMMA_ACC(d, 1), STEMMA_WGMMA_ACC(d, 2),               \
            STEMMA_WGMMA_ACC(d, 3), STEMMA_WGMMA_ACC(d, 4), STEMMA_WGMMA_ACC(d, 5),               \
            STEMMA_WGMMA_ACC(d, 6), STEMMA_WGMMA_ACC(d, 7), STEMMA_WGMMA_ACC(d, 8),               \
            STEMMA_WGMMA_ACC(d, 9), STEMMA_WGMMA_ACC(d, 10), STEMMA_WGMMA_ACC(d, 11),             \
            STEMMA_WGMMA_ACC(d, 12), STEMMA_WGMMA_ACC(d, 13), STEMMA_WGMMA_ACC(d, 14),            \
            STEMMA_WGMMA_ACC(d, 15)                                                               \
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d));               \
    }                                                                                             \
  };

STEMMA_WGMMA_OPS(__half, "f16")
STEMMA_WGMMA_OPS(__nv_bfloat16, "bf16")
#undef STEMMA_WGMMA_OPS
#undef STEMMA_WGMMA_ACC

}  // namespace stemma::kernels::wgmma
