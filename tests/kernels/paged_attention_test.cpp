// Paged attention (decode, shared prefix, tree sharing, causal prefill) + state merge against a
// float64 CPU reference on the same 16-bit inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "tests/engine/attn/random_batch.h"
#include "tests/kernels/gpu_test_util.h"
#include "tests/kernels/plan_runner.h"

namespace stemma::kernels {
namespace {

using namespace testing;
[[maybe_unused]] const bool kHaveGpu = exit_77_without_gpu();

struct Shape {
  int32_t q_heads, kv_heads, head_dim, page_size;
  bool bf16;
};

struct Errors {
  double rel = 0;          // ||out - ref|| / ||ref||
  int64_t bad = 0;         // NaN or non-zero where nothing is attended
  int64_t wide_items = 0;  // items of more than 32 query rows (the wgmma path unless mma_sync_only)
};

// Runs one random batch through plan + kernels and compares with the reference.
Errors run_case(std::mt19937& rng, const Shape& s, const attn::testing::RandomBatch& b, bool share,
                bool mma_sync_only) {
  const int32_t D = s.head_dim;
  const int64_t page_elems = static_cast<int64_t>(s.kv_heads) * s.page_size * D;
  const int64_t page_stride = page_elems + 8 * (rng() % 3);  // padded pages: strides matter
  const int64_t q_stride = static_cast<int64_t>(s.q_heads) * D + 8 * (rng() % 2);
  const int64_t out_stride = static_cast<int64_t>(s.q_heads) * D;
  std::vector<uint16_t> kbits, vbits, qbits;
  const std::vector<float> k = random_half(rng, b.num_pages * page_stride, 1.f, s.bf16, kbits);
  const std::vector<float> v = random_half(rng, b.num_pages * page_stride, 1.f, s.bf16, vbits);
  const int32_t num_tokens = b.num_query_tokens;
  const std::vector<float> q = random_half(rng, num_tokens * q_stride, 1.5f, s.bf16, qbits);

  attn::PlanOptions o;
  o.page_size = s.page_size;
  o.num_q_heads = s.q_heads;
  o.num_kv_heads = s.kv_heads;
  o.head_dim = D;
  o.share_segments = share;
  o.keep_faster_plan = false;    // exercise the shared path even where it is not faster
  o.cost.min_split_tokens = 64;  // exercise splits on short test sequences
  auto plan = attn::build_attention_plan(b.segments, b.requests, o);
  REQUIRE_MESSAGE(plan.ok(), plan.status().to_string());

  DeviceBuffer<uint16_t> dk(kbits), dv(vbits), dq(qbits);
  DeviceBuffer<uint16_t> dout(static_cast<size_t>(plan->num_query_tokens) * out_stride);
  dout.poison();
  DevicePlan dp;
  STEMMA_CUDA_CHECK(upload_plan(*plan, s.q_heads, D, dp));
  cudaMemset(dp.state_o, 0xff, std::max(plan->num_states, 1) * s.q_heads * D * sizeof(float));
  AttentionTensors t;
  t.dtype = s.bf16 ? DType::kBF16 : DType::kF16;
  t.q = dq.ptr;
  t.q_token_stride = q_stride;
  t.k_cache = dk.ptr;
  t.v_cache = dv.ptr;
  t.page_stride = page_stride;
  t.out = dout.ptr;
  t.out_token_stride = out_stride;
  t.num_q_heads = s.q_heads;
  t.num_kv_heads = s.kv_heads;
  t.head_dim = D;
  t.page_size = s.page_size;
  t.mma_sync_only = mma_sync_only;
  STEMMA_CUDA_CHECK(run_plan(dp, t, nullptr));
  STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<uint16_t> out = dout.download();

  Errors err;
  double num = 0, den = 0;
  std::vector<bool> queried(plan->num_query_tokens, false);
  const int32_t group = s.q_heads / s.kv_heads;
  for (const attn::WorkItem& it : plan->items) err.wide_items += it.num_members * group > 32;
  for (const attn::RequestAttention& req : b.requests) {
    std::vector<std::pair<int32_t, int32_t>> kv;
    for (int32_t seg : req.path) {
      for (int32_t i = 0; i < b.segments[seg].num_tokens; ++i) {
        kv.emplace_back(b.segments[seg].pages[i / s.page_size], i % s.page_size);
      }
    }
    const int32_t len = static_cast<int32_t>(kv.size());
    for (int32_t j = 0; j < req.num_queries; ++j) {
      const int32_t tok = req.first_query_token + j;
      const int32_t pos = len - req.num_queries + j;
      queried[tok] = true;
      for (int32_t h = 0; h < s.q_heads; ++h) {
        const int32_t kvh = h / group;
        std::vector<double> sc(pos + 1);
        double mx = -1e300;
        for (int32_t a = 0; a <= pos; ++a) {
          const int64_t base = kv[a].first * page_stride +
                               (static_cast<int64_t>(kvh) * s.page_size + kv[a].second) * D;
          double dot = 0;
          for (int32_t d = 0; d < D; ++d) dot += q[tok * q_stride + h * D + d] * k[base + d];
          sc[a] = dot / std::sqrt(static_cast<double>(D));
          mx = std::max(mx, sc[a]);
        }
        double sum = 0;
        for (double& x : sc) sum += (x = std::exp(x - mx));
        for (int32_t d = 0; d < D; ++d) {
          double ref = 0;
          for (int32_t a = 0; a <= pos; ++a) {
            const int64_t base = kv[a].first * page_stride +
                                 (static_cast<int64_t>(kvh) * s.page_size + kv[a].second) * D;
            ref += sc[a] * v[base + d];
          }
          ref /= sum;
          const double got = from_bits(out[tok * out_stride + h * D + d], s.bf16);
          if (std::isnan(got)) ++err.bad;
          num += (got - ref) * (got - ref);
          den += ref * ref;
        }
      }
    }
  }
  for (int32_t tok = 0; tok < plan->num_query_tokens; ++tok) {
    if (queried[tok]) continue;
    for (int64_t i = 0; i < out_stride; ++i)
      err.bad += from_bits(out[tok * out_stride + i], s.bf16) != 0.f;
  }
  err.rel = std::sqrt(num / std::max(den, 1e-30));
  return err;
}

void run_shapes(attn::testing::RandomBatchShape shape, int trials, uint32_t seed) {
  std::mt19937 rng(seed);
  const Shape shapes[] = {{32, 8, 128, 16, false},
                          {28, 4, 128, 16, true},
                          {8, 8, 64, 32, false},
                          {16, 2, 64, 16, true},
                          {8, 1, 128, 64, false}};
  int64_t wgmma_items[2] = {0, 0};  // by head dim: 64, 128
  for (const Shape& s : shapes) {
    for (int t = 0; t < trials; ++t) {
      shape.page_size = s.page_size;
      const auto b = attn::testing::make_random_batch(rng, shape);
      for (int variant = 0; variant < 3; ++variant) {
        const bool share = variant > 0, mma_sync_only = variant == 2;
        CAPTURE(s.q_heads);
        CAPTURE(s.kv_heads);
        CAPTURE(s.head_dim);
        CAPTURE(s.bf16);
        CAPTURE(share);
        CAPTURE(mma_sync_only);
        CAPTURE(t);
        const Errors e = run_case(rng, s, b, share, mma_sync_only);
        CHECK(e.bad == 0);
        CHECK(e.rel < (s.bf16 ? 1.5e-2 : 2e-3));
        if (share && !mma_sync_only) wgmma_items[s.head_dim == 128] += e.wide_items;
      }
    }
  }
  // The batches must reach the wgmma path for both head dims, or its checks above are vacuous.
  CHECK(wgmma_items[0] > 0);
  CHECK(wgmma_items[1] > 0);
}

TEST_CASE("decode over random radix trees (ragged and empty suffixes, shuffled pages)") {
  attn::testing::RandomBatchShape shape;
  shape.num_requests = 24;
  shape.max_depth = 3;
  run_shapes(shape, 3, 11);
}

TEST_CASE("decode with long shared prefixes split across blocks") {
  attn::testing::RandomBatchShape shape;
  shape.num_requests = 12;
  shape.max_depth = 2;
  shape.max_shared_pages = 60;
  shape.max_suffix_tokens = 300;
  run_shapes(shape, 1, 12);
}

TEST_CASE("causal prefill over a cached prefix") {
  attn::testing::RandomBatchShape shape;
  shape.num_requests = 5;
  shape.max_queries = 90;
  shape.max_suffix_tokens = 120;
  run_shapes(shape, 2, 13);
}

TEST_CASE("kv append writes each new token into its page slot") {
  std::mt19937 rng(21);
  for (bool bf16 : {false, true}) {
    const int32_t kvh = 4, D = 128, ps = 16, pages = 9, tokens = 37;
    const int64_t page_stride = static_cast<int64_t>(kvh) * ps * D;
    std::vector<uint16_t> kn, vn, kc, vc;
    random_half(rng, tokens * kvh * D, 1.f, bf16, kn);
    random_half(rng, tokens * kvh * D, 1.f, bf16, vn);
    random_half(rng, pages * page_stride, 1.f, bf16, kc);
    random_half(rng, pages * page_stride, 1.f, bf16, vc);
    std::vector<int32_t> slots(pages * ps);
    std::iota(slots.begin(), slots.end(), 0);
    std::shuffle(slots.begin(), slots.end(), rng);
    slots.resize(tokens);
    slots[3] = -1;  // padding token
    DeviceBuffer<uint16_t> dkn(kn), dvn(vn), dkc(kc), dvc(vc);
    DeviceBuffer<int32_t> dslots(slots);
    KvAppendParams p;
    p.dtype = bf16 ? DType::kBF16 : DType::kF16;
    p.k_new = dkn.ptr;
    p.v_new = dvn.ptr;
    p.new_token_stride = kvh * D;
    p.k_cache = dkc.ptr;
    p.v_cache = dvc.ptr;
    p.page_stride = page_stride;
    p.slot_mapping = dslots.ptr;
    p.num_tokens = tokens;
    p.num_kv_heads = kvh;
    p.head_dim = D;
    p.page_size = ps;
    STEMMA_CUDA_CHECK(launch_kv_append(p, nullptr));
    STEMMA_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<uint16_t> ek = kc, ev = vc;
    for (int32_t t = 0; t < tokens; ++t) {
      if (slots[t] < 0) continue;
      const int64_t page = slots[t] / ps, slot = slots[t] % ps;
      for (int32_t h = 0; h < kvh; ++h) {
        for (int32_t d = 0; d < D; ++d) {
          ek[page * page_stride + (h * ps + slot) * D + d] = kn[(t * kvh + h) * D + d];
          ev[page * page_stride + (h * ps + slot) * D + d] = vn[(t * kvh + h) * D + d];
        }
      }
    }
    CHECK(dkc.download() == ek);
    CHECK(dvc.download() == ev);
  }
}

}  // namespace
}  // namespace stemma::kernels
