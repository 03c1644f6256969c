// One block per row. Thresholds come from radix selection on order-preserving float keys: four
// 8-bit passes find the k-th largest key exactly (top-k) and the key where the descending
// probability mass reaches top_p (top-p), without sorting the vocabulary.
#include <cstdint>

#include "kernels/sampling.h"

namespace stemma::kernels {
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ uint32_t float_key(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Largest key K such that at least `target` logits have keys >= K (the k-th largest key).
__device__ uint32_t radix_select_count(const float* x, int vocab, float target, float* hist) {
  uint32_t prefix = 0, prefix_mask = 0;
  float remaining = target;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0.f;
    __syncthreads();
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      const uint32_t key = float_key(x[i]);
      if ((key & prefix_mask) != prefix) continue;
      atomicAdd(&hist[(key >> shift) & 0xffu], 1.f);
    }
    __syncthreads();
    // Every thread scans the 256 bins from the top (cheap; avoids another barrier dance).
    float above = 0.f;
    int digit = 0;
    for (int b = 255; b >= 0; --b) {
      if (above + hist[b] >= remaining) {
        digit = b;
        break;
      }
      above += hist[b];
    }
    remaining -= above;
    prefix |= static_cast<uint32_t>(digit) << shift;
    prefix_mask |= 0xffu << shift;
    __syncthreads();
  }
  return prefix;
}

__device__ float block_reduce(float v, bool is_max, float* scratch) {
  for (int off = 16; off > 0; off >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, v, off);
    v = is_max ? fmaxf(v, o) : v + o;
  }
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float t = scratch[0];
  for (int w = 1; w < kThreads / 32; ++w) t = is_max ? fmaxf(t, scratch[w]) : t + scratch[w];
  __syncthreads();
  return t;
}

__global__ void __launch_bounds__(kThreads) sample_kernel(SampleParams p) {
  __shared__ float hist[256];
  __shared__ float scratch[32];
  __shared__ float thread_sums[kThreads];
  __shared__ int32_t chosen;
  const int64_t row = blockIdx.x;
  const float* logits = p.logits + row * p.logits_stride;
  const int vocab = p.vocab;
  const float temp = p.temperature[row];
  if (threadIdx.x == 0) chosen = -1;

  if (!(temp > 0.f)) {  // greedy: argmax, lowest index on ties
    float best = -INFINITY;
    int best_i = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      if (logits[i] > best) {
        best = logits[i];
        best_i = i;
      }
    }
    for (int off = 16; off > 0; off >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, off);
      const int oi = __shfl_xor_sync(0xffffffffu, best_i, off);
      if (ob > best || (ob == best && oi < best_i)) {
        best = ob;
        best_i = oi;
      }
    }
    __shared__ float wb[32];
    __shared__ int wi[32];
    if ((threadIdx.x & 31) == 0) {
      wb[threadIdx.x >> 5] = best;
      wi[threadIdx.x >> 5] = best_i;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < kThreads / 32; ++w) {
        if (wb[w] > wb[0] || (wb[w] == wb[0] && wi[w] < wi[0])) {
          wb[0] = wb[w];
          wi[0] = wi[w];
        }
      }
      p.out_tokens[row] = wi[0] == 0x7fffffff ? -1 : wi[0];  // no finite logit: -1
    }
    return;
  }

  // x = logit / T is recomputed from the row (it stays in L1/L2) rather than stored.
  auto xval = [&](int i) { return logits[i] / temp; };
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, xval(i));
  mx = block_reduce(mx, true, scratch);

  // Keys of logits and of logits / T order the same way (T > 0): thresholds are taken on
  // logit keys.
  uint32_t floor_key = 0;
  const int k = p.top_k[row];
  if (k > 0 && k < vocab) {
    floor_key = radix_select_count(logits, vocab, static_cast<float>(k), hist);
  }
  const float top_p = p.top_p[row];
  float z = 0.f;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    if (float_key(logits[i]) >= floor_key) z += __expf(xval(i) - mx);
  }
  z = block_reduce(z, false, scratch);
  if (top_p < 1.f) {
    // Weighted radix select with weights exp(x - mx), x = logit / temp.
    uint32_t prefix = 0, prefix_mask = 0;
    float remaining = top_p * z;
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0.f;
      __syncthreads();
      for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const uint32_t key = float_key(logits[i]);
        if (key < floor_key || (key & prefix_mask) != prefix) continue;
        atomicAdd(&hist[(key >> shift) & 0xffu], __expf(xval(i) - mx));
      }
      __syncthreads();
      float above = 0.f;
      int digit = 0;
      for (int b = 255; b >= 0; --b) {
        if (hist[b] > 0.f) digit = b;  // lowest non-empty bin so far: the fallback
        if (above + hist[b] >= remaining && hist[b] > 0.f) {
          digit = b;
          break;
        }
        above += hist[b];
      }
      remaining -= above;
      prefix |= static_cast<uint32_t>(digit) << shift;
      prefix_mask |= 0xffu << shift;
      __syncthreads();
    }
    floor_key = max(floor_key, prefix);
    z = 0.f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      if (float_key(logits[i]) >= floor_key) z += __expf(xval(i) - mx);
    }
    z = block_reduce(z, false, scratch);
  }

  // Inverse CDF in vocab order: each thread owns a contiguous chunk.
  const float target = p.uniform[row] * z;
  const int chunk = (vocab + kThreads - 1) / kThreads;
  const int begin = threadIdx.x * chunk;
  const int end = min(vocab, begin + chunk);
  float mine = 0.f;
  int last_kept = -1;
  for (int i = begin; i < end; ++i) {
    if (float_key(logits[i]) >= floor_key) {
      mine += __expf(xval(i) - mx);
      last_kept = i;
    }
  }
  thread_sums[threadIdx.x] = mine;
  __syncthreads();
  // Exclusive prefix of the thread sums: warp 0 scans 32 groups of 32.
  if (threadIdx.x < 32) {
    float run = 0.f;
    for (int t = threadIdx.x * 32; t < threadIdx.x * 32 + 32; ++t) run += thread_sums[t];
    float incl = run;
    for (int off = 1; off < 32; off <<= 1) {
      const float o = __shfl_up_sync(0xffffffffu, incl, off);
      if (static_cast<int>(threadIdx.x) >= off) incl += o;
    }
    float base = incl - run;
    for (int t = threadIdx.x * 32; t < threadIdx.x * 32 + 32; ++t) {
      const float v = thread_sums[t];
      thread_sums[t] = base;
      base += v;
    }
  }
  __syncthreads();
  float cum = thread_sums[threadIdx.x];
  if (cum <= target && cum + mine > target) {
    for (int i = begin; i < end; ++i) {
      if (float_key(logits[i]) < floor_key) continue;
      cum += __expf(xval(i) - mx);
      if (cum > target) {
        atomicMax(&chosen, i);  // one thread qualifies; max guards rounding overlaps
        break;
      }
    }
  }
  __syncthreads();
  // Rounding can leave target at or past the total: take the last kept token then.
  const bool none = chosen < 0;
  __syncthreads();
  if (none && last_kept >= 0) atomicMax(&chosen, last_kept);
  __syncthreads();
  if (threadIdx.x == 0) p.out_tokens[row] = chosen < 0 ? 0 : chosen;
}

}  // namespace

cudaError_t launch_sample(const SampleParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  if (p.vocab <= 0) return cudaErrorInvalidValue;
  sample_kernel<<<p.rows, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace stemma::kernels
