#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/layer_ops.h"
#include "kernels/quant_decode.cuh"

namespace stemma::kernels {
namespace {

using quant_decode::decode_unit;
using quant_decode::unit_column;
using quant_decode::unit_elems;

__device__ __forceinline__ void store_elem(void* base, int64_t i, ElemType t, float v) {
  switch (t) {
    case ElemType::kF32:
      static_cast<float*>(base)[i] = v;
      break;
    case ElemType::kF16:
      static_cast<__half*>(base)[i] = __float2half_rn(v);
      break;
    case ElemType::kBF16:
      static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
      break;
  }
}

__device__ float block_sum(float v, float* scratch) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) t += scratch[w];
  __syncthreads();
  return t;
}

// One block per (token, unit range): each thread decodes whole units of the row.
__global__ void embed_rows_kernel(WeightMatrix table, const int32_t* ids, float* out) {
  const int64_t t = blockIdx.x;
  const int32_t id = ids[t];
  const int per = unit_elems(table.format);
  const int64_t units = table.cols / per;
  float* row = out + t * table.cols;
  float buf[64];
  for (int64_t u = threadIdx.x; u < units; u += blockDim.x) {
    if (id < 0 || id >= table.rows) {
      for (int e = 0; e < per; ++e) row[u * per + e] = 0.f;
      continue;
    }
    decode_unit(table, id, u, buf);
    for (int e = 0; e < per; ++e) row[unit_column(table.format, u, e)] = buf[e];
  }
}

__global__ void dequantize_rows_kernel(WeightMatrix w, int64_t row_begin, ElemType out_type,
                                       void* out) {
  const int64_t r = blockIdx.x;
  const int per = unit_elems(w.format);
  const int64_t units = w.cols / per;
  float buf[64];
  for (int64_t u = threadIdx.x; u < units; u += blockDim.x) {
    decode_unit(w, row_begin + r, u, buf);
    for (int e = 0; e < per; ++e)
      store_elem(out, r * w.cols + unit_column(w.format, u, e), out_type, buf[e]);
  }
}

__global__ void residual_norm_kernel(ResidualNormParams p) {
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  const int64_t i = p.row_ids != nullptr ? p.row_ids[r] : r;
  float* x = p.x + i * p.dim;
  float ss = 0.f;
  for (int c = threadIdx.x; c < p.dim; c += blockDim.x) {
    float v = x[c];
    if (p.delta != nullptr) {
      float dv = p.delta[i * p.dim + c];
      if (p.delta_bias != nullptr) dv += p.delta_bias[c];
      v += dv;
      x[c] = v;
    }
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum(ss, scratch) / static_cast<float>(p.dim) + p.eps);
  for (int c = threadIdx.x; c < p.dim; c += blockDim.x) {
    store_elem(p.out, r * p.dim + c, p.out_type, p.weight[c] * (x[c] * inv));
  }
}

// One block per token, one warp per head (q heads, then k heads, then v heads).
__global__ void qkv_rope_kernel(QkvRopeParams p) {
  extern __shared__ float smem[];  // one head vector per warp
  const int64_t t = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  const int D = p.head_dim;
  float* h = smem + warp * D;
  const int64_t width = static_cast<int64_t>(p.q_heads + 2 * p.kv_heads) * D;
  const float* row = p.qkv + t * width;
  const int32_t pos = p.positions[t];
  const int32_t slot_id = p.slot_mapping[t];
  const int64_t page = slot_id / p.page_size, slot = slot_id % p.page_size;
  for (int head = warp; head < p.q_heads + 2 * p.kv_heads; head += warps) {
    const int64_t off = static_cast<int64_t>(head) * D;
    for (int i = lane; i < D; i += 32) {
      float v = row[off + i];
      if (p.bias != nullptr) v += p.bias[off + i];
      h[i] = v;
    }
    __syncwarp();
    const bool is_q = head < p.q_heads, is_k = !is_q && head < p.q_heads + p.kv_heads;
    if ((is_q || is_k) && p.q_norm != nullptr) {
      float ss = 0.f;
      for (int i = lane; i < D; i += 32) ss += h[i] * h[i];
      for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
      const float inv = rsqrtf(ss / static_cast<float>(D) + p.norm_eps);
      const float* nw = is_q ? p.q_norm : p.k_norm;
      __syncwarp();
      for (int i = lane; i < D; i += 32) h[i] = nw[i] * (h[i] * inv);
      __syncwarp();
    }
    if (is_q || is_k) {
      float rot[8];  // D <= 256: at most 4 pairs per lane, 2 values each
      int n = 0;
      for (int i = lane; i < D / 2; i += 32, n += 2) {
        const float angle = static_cast<float>(pos) * p.inv_freq[i];
        float s, c;
        sincosf(angle, &s, &c);
        c *= p.attention_factor;
        s *= p.attention_factor;
        const int a = p.layout == RopeLayout::kHalves ? i : 2 * i;
        const int b = p.layout == RopeLayout::kHalves ? i + D / 2 : 2 * i + 1;
        const float x0 = h[a], x1 = h[b];
        rot[n] = x0 * c - x1 * s;
        rot[n + 1] = x1 * c + x0 * s;
      }
      __syncwarp();
      n = 0;
      for (int i = lane; i < D / 2; i += 32, n += 2) {
        const int a = p.layout == RopeLayout::kHalves ? i : 2 * i;
        const int b = p.layout == RopeLayout::kHalves ? i + D / 2 : 2 * i + 1;
        h[a] = rot[n];
        h[b] = rot[n + 1];
      }
      __syncwarp();
    }
    if (is_q) {
      for (int i = lane; i < D; i += 32)
        store_elem(p.q_out, (t * p.q_heads + head) * D + i, p.q_type, h[i]);
    } else {
      const int kv_head = is_k ? head - p.q_heads : head - p.q_heads - p.kv_heads;
      void* cache = is_k ? p.k_cache : p.v_cache;
      const int64_t base = page * p.page_stride + (kv_head * p.page_size + slot) * D;
      for (int i = lane; i < D; i += 32) store_elem(cache, base + i, p.kv_type, h[i]);
    }
    __syncwarp();
  }
}

__global__ void swiglu_f32_kernel(SwiGluF32Params p) {
  const int64_t t = blockIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.dim) return;
  float g = p.gate_up[t * 2 * p.dim + i];
  float u = p.gate_up[t * 2 * p.dim + p.dim + i];
  if (p.bias != nullptr) {
    g += p.bias[i];
    u += p.bias[p.dim + i];
  }
  // HF: silu(g) = g * sigmoid(g), in fp32.
  store_elem(p.out, t * p.dim + i, p.out_type, g / (1.f + expf(-g)) * u);
}

__global__ void copy_page_kernel(CopyPageParams p) {
  const int layer = blockIdx.x, head = blockIdx.y;
  const int bytes = elem_bytes(p.kv_type);
  const int64_t row = static_cast<int64_t>(p.head_dim) * bytes;  // one slot
  for (int kv = 0; kv < 2; ++kv) {
    char* cache = static_cast<char*>(kv == 0 ? p.k_cache : p.v_cache);
    const int64_t head_off = static_cast<int64_t>(head) * p.page_size * p.head_dim * bytes;
    const char* src = cache + (layer * p.layer_stride + p.src * p.page_stride) * bytes + head_off;
    char* dst = cache + (layer * p.layer_stride + p.dst * p.page_stride) * bytes + head_off;
    const int64_t n = p.num_slots * row;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) dst[i] = src[i];
  }
}

bool decodable(const WeightMatrix& w) {
  if (w.data == nullptr || w.rows <= 0 || w.cols <= 0) return false;
  switch (w.format) {
    case WeightFormat::kQ4_K:
    case WeightFormat::kQ6_K:
      return w.cols % 256 == 0;
    case WeightFormat::kQ8_0:
      return w.cols % 32 == 0 && w.scales != nullptr;
    default:
      return w.cols % 32 == 0;
  }
}

}  // namespace

cudaError_t launch_embed_rows(const WeightMatrix& table, const int32_t* ids, int32_t tokens,
                              float* out, cudaStream_t stream) {
  if (tokens == 0) return cudaSuccess;
  if (!decodable(table) || tokens < 0) return cudaErrorInvalidValue;
  embed_rows_kernel<<<tokens, 128, 0, stream>>>(table, ids, out);
  return cudaGetLastError();
}

cudaError_t launch_dequantize_rows(const WeightMatrix& w, int64_t row_begin, int64_t num_rows,
                                   ElemType out_type, void* out, cudaStream_t stream) {
  if (num_rows == 0) return cudaSuccess;
  if (!decodable(w) || out_type == ElemType::kF32 || row_begin < 0 || num_rows < 0 ||
      row_begin + num_rows > w.rows || num_rows > 0x7fffffff) {
    return cudaErrorInvalidValue;
  }
  dequantize_rows_kernel<<<static_cast<unsigned>(num_rows), 128, 0, stream>>>(w, row_begin,
                                                                              out_type, out);
  return cudaGetLastError();
}

cudaError_t launch_residual_norm(const ResidualNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  if (p.rows < 0 || p.dim <= 0 || p.x == nullptr || p.weight == nullptr || p.out == nullptr ||
      (p.delta_bias != nullptr && p.delta == nullptr)) {
    return cudaErrorInvalidValue;
  }
  residual_norm_kernel<<<p.rows, p.dim >= 1024 ? 512 : 128, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_qkv_rope(const QkvRopeParams& p, cudaStream_t stream) {
  if (p.tokens == 0) return cudaSuccess;
  if (p.tokens < 0 || p.head_dim <= 0 || p.head_dim % 2 != 0 || p.head_dim > 256 ||
      p.q_heads <= 0 || p.kv_heads <= 0 || p.page_size <= 0 ||
      (p.q_norm == nullptr) != (p.k_norm == nullptr)) {
    return cudaErrorInvalidValue;
  }
  const int warps = 8;
  const size_t smem = static_cast<size_t>(warps) * p.head_dim * sizeof(float);
  qkv_rope_kernel<<<p.tokens, warps * 32, smem, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_swiglu_f32(const SwiGluF32Params& p, cudaStream_t stream) {
  if (p.tokens == 0) return cudaSuccess;
  if (p.tokens < 0 || p.dim <= 0) return cudaErrorInvalidValue;
  dim3 grid(static_cast<unsigned>((p.dim + 255) / 256), static_cast<unsigned>(p.tokens));
  swiglu_f32_kernel<<<grid, 256, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_copy_page(const CopyPageParams& p, cudaStream_t stream) {
  if (p.num_slots <= 0) return cudaSuccess;
  if (p.layers <= 0 || p.kv_heads <= 0 || p.num_slots > p.page_size) return cudaErrorInvalidValue;
  dim3 grid(static_cast<unsigned>(p.layers), static_cast<unsigned>(p.kv_heads));
  copy_page_kernel<<<grid, 256, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace stemma::kernels
