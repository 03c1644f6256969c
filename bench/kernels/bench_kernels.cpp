// Microbenchmark of decode attention: the shared-prefix plan against the FlashDecoding-style
// baseline plan (the same kernel; the baseline reads every request's pages on its own), over a
// matrix of batch sizes, shared-prefix lengths, suffix lengths, groups and tree depths, with a
// device copy as the memory roofline measured in the same run.
//
//   stemma_bench_kernels                 the matrix (CSV rows on stdout)
//   stemma_bench_kernels --quick         a small subset
//   stemma_bench_kernels --calibrate     fits the cost-model constants (engine/attn) and stops;
//                                        the matrix fits them first too (--no-calibrate: defaults)
//   stemma_bench_kernels --roofline      the baseline decode against the copy roofline only
//   stemma_bench_kernels --single
//   model=llama,batch=64,prefix=4096,suffix=128,groups=1,depth=1,mode=shared|base|mmasync
//                                        one configuration, a few launches (for ncu)
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/attn/attention_plan.h"
#include "kernels/fill_random.h"
#include "kernels/paged_attention.h"
#include "tests/kernels/plan_runner.h"

namespace {

using namespace stemma;
using kernels::testing::AttentionTensors;
using kernels::testing::DevicePlan;

#define CK(expr)                                                                                 \
  do {                                                                                           \
    cudaError_t e_ = (expr);                                                                     \
    if (e_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(e_)); \
      std::exit(1);                                                                              \
    }                                                                                            \
  } while (0)

struct ModelShape {
  const char* name;
  int32_t q_heads, kv_heads, head_dim;
};
const ModelShape kLlama = {"llama3-8b", 32, 8, 128};
const ModelShape kQwen = {"qwen2.5-7b", 28, 4, 128};

struct Config {
  ModelShape model = kLlama;
  int32_t batch = 1, prefix = 0, suffix = 128, groups = 1, depth = 1;
};

// --page-size N and --contiguous (pages in address order instead of shuffled) vary the KV
// layout of every configuration: what the DRAM access pattern costs.
int32_t g_page_size = 16;
bool g_shuffle_pages = true;

// A batch: `groups` groups of requests; each group shares a prefix of `prefix` tokens cut into
// `depth` levels, level l shared by 1/2^l of the group (a binary radix tree); each request owns
// `suffix` tokens (its decode token included).
struct Batch {
  std::vector<std::vector<int32_t>> pages;
  std::vector<attn::Segment> segments;
  std::vector<attn::RequestAttention> requests;
  int32_t num_pages = 0;
  int64_t logical_tokens = 0;  // sum of each request's KV length (what the baseline reads)
  int64_t unique_tokens = 0;   // distinct cached tokens (what a perfect sharing kernel reads)
};

Batch make_batch(const Config& c) {
  Batch b;
  std::vector<int32_t> lengths;  // per segment
  const int32_t level_len = c.depth > 0 ? c.prefix / c.depth / g_page_size * g_page_size : 0;
  std::vector<std::vector<int32_t>> paths(c.batch);
  for (int32_t g = 0; g < c.groups; ++g) {
    std::vector<int32_t> members;
    for (int32_t r = g; r < c.batch; r += c.groups) members.push_back(r);
    if (members.empty()) continue;
    for (int32_t l = 0; l < c.depth && level_len > 0; ++l) {
      const int32_t parts = std::min<int32_t>(1 << l, static_cast<int32_t>(members.size()));
      for (int32_t part = 0; part < parts; ++part) {
        const int32_t seg = static_cast<int32_t>(lengths.size());
        lengths.push_back(level_len);
        for (size_t i = 0; i < members.size(); ++i) {
          if (static_cast<int32_t>(i * parts / members.size()) == part) {
            paths[members[i]].push_back(seg);
          }
        }
      }
    }
  }
  for (int32_t r = 0; r < c.batch; ++r) {
    paths[r].push_back(static_cast<int32_t>(lengths.size()));
    lengths.push_back(c.suffix);
  }
  int32_t total_pages = 0;
  for (int32_t len : lengths) total_pages += (len + g_page_size - 1) / g_page_size;
  std::vector<int32_t> pool(total_pages);
  std::iota(pool.begin(), pool.end(), 0);
  std::mt19937 rng(5);
  if (g_shuffle_pages) std::shuffle(pool.begin(), pool.end(), rng);
  size_t next = 0;
  for (int32_t len : lengths) {
    const int32_t n = (len + g_page_size - 1) / g_page_size;
    b.pages.emplace_back(pool.begin() + next, pool.begin() + next + n);
    next += n;
    b.unique_tokens += len;
  }
  for (size_t s = 0; s < lengths.size(); ++s) {
    b.segments.push_back({static_cast<int32_t>(s), b.pages[s], lengths[s]});
  }
  for (int32_t r = 0; r < c.batch; ++r) {
    b.requests.push_back({r, 1, paths[r]});
    for (int32_t s : paths[r]) b.logical_tokens += lengths[s];
  }
  b.num_pages = total_pages;
  return b;
}

struct Gpu {
  void* k = nullptr;
  void* v = nullptr;
  void* q = nullptr;
  void* out = nullptr;
  size_t kv_bytes = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Times `fn` with CUDA events: warm-ups, then the median of `repeats` launches.
// `before` runs ahead of each timed launch, outside the timed span (an L2 sweep).
template <typename Fn, typename Before = void (*)()>
double time_us(
    Fn&& fn, int repeats, Before&& before = [] {}) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    before();
    CK(cudaEventRecord(a));
    fn();
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1000.0);
  }
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  return median(t);
}

// Device-to-device copy of a buffer far larger than L2: bytes read + written per second.
double measure_copy_gbps() {
  const size_t bytes = size_t{2} << 30;
  void *src = nullptr, *dst = nullptr;
  CK(cudaMalloc(&src, bytes));
  CK(cudaMalloc(&dst, bytes));
  CK(kernels::launch_fill_random(src, bytes / 2, kernels::DType::kF16, 1, 1.f, nullptr));
  const double us =
      time_us([&] { CK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice)); }, 10);
  CK(cudaFree(src));
  CK(cudaFree(dst));
  return 2.0 * bytes / (us * 1e3);
}

struct RunResult {
  double us = 0;
  double plan_us = 0;
  int64_t items = 0;
  double predicted_us = 0;
};

attn::PlanOptions plan_options(const Config& c, bool share, const attn::CostModel& cost) {
  attn::PlanOptions o;
  o.page_size = g_page_size;
  o.num_q_heads = c.model.q_heads;
  o.num_kv_heads = c.model.kv_heads;
  o.head_dim = c.model.head_dim;
  o.share_segments = share;
  o.keep_faster_plan = false;  // each column measures its own path
  o.cost = cost;
  return o;
}

AttentionTensors tensors(const Config& c, const Gpu& g) {
  AttentionTensors t;
  t.dtype = kernels::DType::kF16;
  t.q = g.q;
  t.q_token_stride = static_cast<int64_t>(c.model.q_heads) * c.model.head_dim;
  t.k_cache = g.k;
  t.v_cache = g.v;
  t.page_stride = static_cast<int64_t>(c.model.kv_heads) * g_page_size * c.model.head_dim;
  t.out = g.out;
  t.out_token_stride = t.q_token_stride;
  t.num_q_heads = c.model.q_heads;
  t.num_kv_heads = c.model.kv_heads;
  t.head_dim = c.model.head_dim;
  t.page_size = g_page_size;
  return t;
}

RunResult run_mode(const Config& c, const Batch& b, bool share, const Gpu& g, int repeats,
                   const attn::CostModel& cost, bool mma_sync_only = false) {
  const attn::PlanOptions o = plan_options(c, share, cost);
  const auto t0 = std::chrono::steady_clock::now();
  auto plan = attn::build_attention_plan(b.segments, b.requests, o);
  const auto t1 = std::chrono::steady_clock::now();
  if (!plan.ok()) {
    std::fprintf(stderr, "plan: %s\n", plan.status().to_string().c_str());
    std::exit(1);
  }
  DevicePlan dp;
  CK(kernels::testing::upload_plan(*plan, c.model.q_heads, c.model.head_dim, dp));
  AttentionTensors t = tensors(c, g);
  t.mma_sync_only = mma_sync_only;
  RunResult r;
  r.us = time_us([&] { CK(kernels::testing::run_plan(dp, t, nullptr)); }, repeats);
  r.plan_us = std::chrono::duration<double, std::micro>(t1 - t0).count();
  r.items = static_cast<int64_t>(plan->items.size());
  r.predicted_us = plan->predicted_ns / 1e3;
  return r;
}

Gpu alloc(const Config& c, const Batch& b) {
  Gpu g;
  const size_t page_elems = static_cast<size_t>(c.model.kv_heads) * g_page_size * c.model.head_dim;
  g.kv_bytes = page_elems * b.num_pages * 2;
  CK(cudaMalloc(&g.k, g.kv_bytes));
  CK(cudaMalloc(&g.v, g.kv_bytes));
  const size_t q_elems = static_cast<size_t>(c.batch) * c.model.q_heads * c.model.head_dim;
  CK(cudaMalloc(&g.q, q_elems * 2));
  CK(cudaMalloc(&g.out, q_elems * 2));
  CK(kernels::launch_fill_random(g.k, g.kv_bytes / 2, kernels::DType::kF16, 2, 1.f, nullptr));
  CK(kernels::launch_fill_random(g.v, g.kv_bytes / 2, kernels::DType::kF16, 3, 1.f, nullptr));
  CK(kernels::launch_fill_random(g.q, q_elems, kernels::DType::kF16, 4, 1.f, nullptr));
  return g;
}

void release(Gpu& g) {
  cudaFree(g.k);
  cudaFree(g.v);
  cudaFree(g.q);
  cudaFree(g.out);
}

Config parse_single(const std::string& spec) {
  Config c;
  std::stringstream ss(spec);
  std::string kv;
  while (std::getline(ss, kv, ',')) {
    const auto eq = kv.find('=');
    const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "model") c.model = v == "qwen" ? kQwen : kLlama;
    if (k == "batch") c.batch = std::stoi(v);
    if (k == "prefix") c.prefix = std::stoi(v);
    if (k == "suffix") c.suffix = std::stoi(v);
    if (k == "groups") c.groups = std::stoi(v);
    if (k == "depth") c.depth = std::stoi(v);
  }
  return c;
}

// Fits block_fixed_ns and the per-tile times of the cost model from whole-GPU runs without
// splitting: `wave` requests x 8 KV heads = one block per resident slot.
attn::CostModel calibrate(double copy_gbps) {
  attn::CostModel cost;
  cost.blocks_per_sm = kernels::paged_attention_blocks_per_sm(kernels::DType::kF16, 128);
  cost.min_split_tokens = 1 << 30;
  std::printf("calibrate: %d resident blocks per SM\n", cost.blocks_per_sm);
  if (cost.blocks_per_sm < 1) std::exit(1);
  const int32_t wave = cost.num_sms * cost.blocks_per_sm / 8;  // requests x 8 KV heads = slots
  std::printf("calibrate: copy roofline %.0f GB/s\n", copy_gbps);
  std::map<int, double> t_base, t_shared;
  for (int32_t len : {64, 2048, 8192}) {
    Config c;
    c.batch = wave;
    c.suffix = len;
    Batch b = make_batch(c);
    Gpu g = alloc(c, b);
    t_base[len] = run_mode(c, b, false, g, 20, cost).us;
    release(g);
    // 16 requests share a `len` prefix (64 rows per item); `wave` such groups fill one wave.
    Config s;
    s.batch = wave * 16;
    s.groups = wave;
    s.prefix = len;
    s.suffix = 16;
    Batch bs = make_batch(s);
    Gpu gs = alloc(s, bs);
    t_shared[len] = run_mode(s, bs, true, gs, 20, cost).us;
    release(gs);
    std::printf("calibrate: len %d base %.1f us, shared(64 rows) %.1f us\n", len, t_base[len],
                t_shared[len]);
  }
  // A second wave of one-tile blocks costs one block's fixed time plus one tile.
  Config two;
  two.batch = 2 * wave;
  two.suffix = 64;
  Batch b2 = make_batch(two);
  Gpu g2 = alloc(two, b2);
  const double t_two_waves = run_mode(two, b2, false, g2, 20, cost).us;
  release(g2);
  std::printf("calibrate: one wave of 1-tile blocks %.1f us, two waves %.1f us\n", t_base[64],
              t_two_waves);
  const double tiles = (8192 - 64) / 64.0;
  const double base_tile_ns = (t_base[8192] - t_base[64]) * 1e3 / tiles;
  const double shared_tile_ns = (t_shared[8192] - t_shared[64]) * 1e3 / tiles;
  const double tile_load_ns = 2.0 * 64 * 128 * 2 * cost.num_sms * cost.blocks_per_sm / copy_gbps;
  const double block_fixed = (t_two_waves - t_base[64]) * 1e3 - tile_load_ns;
  std::printf(
      "calibrate: block_fixed_ns %.0f, launch_fixed_ns %.0f, load-bound tile %.0f ns "
      "(model %.0f), 64-row tile %.0f ns -> tile_mma_ns_per_row_tile %.0f\n",
      block_fixed, t_base[64] * 1e3 - block_fixed - tile_load_ns, base_tile_ns, tile_load_ns,
      shared_tile_ns, shared_tile_ns / 4);
  attn::CostModel fitted;
  fitted.blocks_per_sm = cost.blocks_per_sm;
  fitted.hbm_bytes_per_ns = copy_gbps;
  fitted.block_fixed_ns = std::max(500.0, block_fixed);
  fitted.launch_fixed_ns = std::max(0.0, t_base[64] * 1e3 - block_fixed - tile_load_ns);
  fitted.tile_mma_ns_per_row_tile = shared_tile_ns / 4;
  return fitted;
}

// Baseline decode (no sharing) against the copy roofline, timed four ways on the same plan:
//   cold   one call after a read sweep of 4x L2 (the KV comes from DRAM: the honest figure)
//   warm   one call after the previous one (part of the KV may still sit in L2)
//   stream 20 calls back to back / 20 (launch latency hidden, as in a forward pass the host
//          queues ahead of the GPU or a CUDA graph)
//   kernel the attention kernel alone, cold (what the merge adds is cold - kernel)
// Fractions are KV bytes read / time / copy roofline. Medians of 15.
void roofline(double copy_gbps, const attn::CostModel& cost) {
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  const size_t sweep_bytes = std::max<size_t>(size_t{256} << 20, size_t{4} * prop.l2CacheSize);
  void* sweep = nullptr;
  uint32_t* sink = nullptr;
  CK(cudaMalloc(&sweep, sweep_bytes));
  CK(cudaMalloc(&sink, sizeof(uint32_t)));
  CK(kernels::launch_fill_random(sweep, sweep_bytes / 2, kernels::DType::kF16, 9, 1.f, nullptr));
  {  // read-only roofline: the sweep itself over a 2 GiB buffer
    const size_t bytes = size_t{2} << 30;
    void* buf = nullptr;
    CK(cudaMalloc(&buf, bytes));
    CK(kernels::launch_fill_random(buf, bytes / 2, kernels::DType::kF16, 8, 1.f, nullptr));
    const double us =
        time_us([&] { CK(kernels::launch_read_sweep(buf, bytes, sink, nullptr)); }, 10);
    std::printf("# read sweep of 2 GiB: %.0f GB/s; page size %d, pages %s\n", bytes / (us * 1e3),
                g_page_size, g_shuffle_pages ? "shuffled" : "contiguous");
    CK(cudaFree(buf));
  }
  std::printf(
      "model,batch,context,items,kv_MB,cold_us,warm_us,stream_us,kernel_us,frac_cold,frac_warm,"
      "frac_stream,frac_kernel,pred_us\n");
  for (const ModelShape& m : {kLlama, kQwen}) {
    for (const auto& [batch, context] : std::vector<std::pair<int32_t, int32_t>>{
             {1, 8192}, {1, 32768}, {1, 65536}, {1, 131072}, {8, 32768}, {32, 32768}}) {
      const Config c{m, batch, 0, context, 1, 1};
      Batch b = make_batch(c);
      Gpu g = alloc(c, b);
      auto plan = attn::build_attention_plan(b.segments, b.requests, plan_options(c, false, cost));
      if (!plan.ok()) std::exit(1);
      DevicePlan dp;
      CK(kernels::testing::upload_plan(*plan, m.q_heads, m.head_dim, dp));
      const AttentionTensors t = tensors(c, g);
      const auto attn_params = kernels::testing::attention_params(dp, t);
      auto step = [&] { CK(kernels::testing::run_plan(dp, t, nullptr)); };
      auto cool = [&] { CK(kernels::launch_read_sweep(sweep, sweep_bytes, sink, nullptr)); };
      const double cold = time_us(step, 15, cool);
      const double kernel =
          time_us([&] { CK(kernels::launch_paged_attention(attn_params, nullptr)); }, 15, cool);
      const double warm = time_us(step, 15);
      const double stream = time_us(
                                [&] {
                                  for (int i = 0; i < 20; ++i) step();
                                },
                                15) /
                            20;
      const double bytes = b.logical_tokens * 4.0 * m.kv_heads * m.head_dim;
      auto frac = [&](double us) { return bytes / (us * 1e3) / copy_gbps; };
      std::printf("%s,%d,%d,%zu,%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%.3f,%.1f\n", m.name, batch,
                  context, plan->items.size(), bytes / 1e6, cold, warm, stream, kernel, frac(cold),
                  frac(warm), frac(stream), frac(kernel), plan->predicted_ns / 1e3);
      std::fflush(stdout);
      release(g);
    }
  }
  cudaFree(sweep);
  cudaFree(sink);
}
}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::fprintf(stderr, "no CUDA device\n");
    return 77;
  }
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  bool quick = false;
  std::string single, mode = "shared";
  bool do_calibrate = false, no_calibrate = false, do_roofline = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    if (a == "--calibrate") do_calibrate = true;
    if (a == "--no-calibrate") no_calibrate = true;
    if (a == "--single" && i + 1 < argc) single = argv[++i];
    if (a == "--roofline") do_roofline = true;
    if (a == "--page-size" && i + 1 < argc) g_page_size = std::stoi(argv[++i]);
    if (a == "--contiguous") g_shuffle_pages = false;
  }
  attn::CostModel cost;
  if (!single.empty()) {
    const Config c = parse_single(single);
    mode = single.find("mode=base") != std::string::npos      ? "base"
           : single.find("mode=mmasync") != std::string::npos ? "mmasync"
                                                              : "shared";
    Batch b = make_batch(c);
    Gpu g = alloc(c, b);
    const RunResult r = run_mode(c, b, mode != "base", g, 3, cost, mode == "mmasync");
    std::printf(
        "single %s %s batch=%d prefix=%d suffix=%d groups=%d depth=%d: %.1f us, %lld items,"
        " logical KV %.1f MB, unique KV %.1f MB\n",
        mode.c_str(), c.model.name, c.batch, c.prefix, c.suffix, c.groups, c.depth, r.us,
        static_cast<long long>(r.items),
        b.logical_tokens * 4.0 * c.model.kv_heads * c.model.head_dim / 1e6,
        b.unique_tokens * 4.0 * c.model.kv_heads * c.model.head_dim / 1e6);
    release(g);
    return 0;
  }
  const double copy_gbps = measure_copy_gbps();
  std::printf("# device %s, %d SMs, L2 %d MB; copy roofline %.0f GB/s (read+write)\n", prop.name,
              prop.multiProcessorCount, prop.l2CacheSize >> 20, copy_gbps);
  if (do_calibrate || !no_calibrate) {
    // The matrix plans with the constants fitted in this run (the defaults in
    // engine/attn/attention_cost_model.h are a recorded copy of such a fit).
    cost = calibrate(copy_gbps);
    std::printf(
        "# cost model: blocks_per_sm %d, hbm %.0f B/ns, launch %.0f ns, block %.0f ns, "
        "mma/row-tile/tile %.0f ns\n",
        cost.blocks_per_sm, cost.hbm_bytes_per_ns, cost.launch_fixed_ns, cost.block_fixed_ns,
        cost.tile_mma_ns_per_row_tile);
    if (do_calibrate) return 0;
  }
  if (do_roofline) {
    roofline(copy_gbps, cost);
    return 0;
  }
  std::vector<Config> configs;
  for (const ModelShape& m : {kLlama, kQwen}) {
    // Long contexts without sharing: the baseline's bandwidth.
    for (int32_t batch : {1, 8, 32}) {
      for (int32_t suffix : {8192, 32768}) {
        if (quick && suffix == 8192) continue;
        configs.push_back({m, batch, 0, suffix, 1, 1});
      }
    }
    for (int32_t batch : {1, 16, 64, 256}) {
      for (int32_t prefix : {1024, 4096, 16384, 32768}) {
        for (int32_t suffix : {128, 1024}) {
          if (quick && (suffix == 1024 || prefix == 16384)) continue;
          configs.push_back({m, batch, prefix, suffix, 1, 1});
        }
      }
    }
    for (int32_t groups : {4, 16}) configs.push_back({m, 64, 4096, 256, groups, 1});
    for (int32_t depth : {2, 3}) configs.push_back({m, 64, 4096, 256, 1, depth});
    configs.push_back({m, 256, 8192, 256, 4, 3});
  }
  std::printf(
      "model,batch,prefix,suffix,groups,depth,base_us,shared_us,speedup,base_items,"
      "shared_items,logical_MB,unique_MB,base_frac_of_copy,base_pred_us,shared_pred_us,auto_us,"
      "plan_us,shared_mmasync_us\n");
  std::vector<double> speedups, speedups_batched, speedups_auto, speedups_mmasync;
  for (const Config& c : configs) {
    Batch b = make_batch(c);
    Gpu g = alloc(c, b);
    const int repeats = 15;
    const RunResult base = run_mode(c, b, false, g, repeats, cost);
    const RunResult shared = run_mode(c, b, true, g, repeats, cost);
    // The shared plan with mma.sync for every item (no wgmma), where sharing matters.
    const double mmasync_us =
        c.prefix > 0 && c.batch >= 16 ? run_mode(c, b, true, g, repeats, cost, true).us : 0.0;
    const double bytes_per_token = 4.0 * c.model.kv_heads * c.model.head_dim;  // K+V fp16
    const double logical = b.logical_tokens * bytes_per_token;
    const double frac = logical / (base.us * 1e3) / copy_gbps;
    // What the planner runs by default (keep_faster_plan): the plan predicted faster.
    const double auto_us = shared.predicted_us <= base.predicted_us ? shared.us : base.us;
    std::printf(
        "%s,%d,%d,%d,%d,%d,%.1f,%.1f,%.2f,%lld,%lld,%.1f,%.1f,%.3f,%.1f,%.1f,%.1f,%.0f,%.1f\n",
        c.model.name, c.batch, c.prefix, c.suffix, c.groups, c.depth, base.us, shared.us,
        base.us / shared.us, static_cast<long long>(base.items),
        static_cast<long long>(shared.items), logical / 1e6,
        b.unique_tokens * bytes_per_token / 1e6, frac, base.predicted_us, shared.predicted_us,
        auto_us, shared.plan_us, mmasync_us);
    std::fflush(stdout);
    if (c.prefix > 0) speedups.push_back(base.us / shared.us);
    if (c.prefix > 0 && c.batch >= 16) speedups_batched.push_back(base.us / shared.us);
    if (c.prefix > 0) speedups_auto.push_back(base.us / auto_us);
    if (mmasync_us > 0) speedups_mmasync.push_back(base.us / mmasync_us);
    release(g);
  }
  auto summary = [](const char* what, const std::vector<double>& v) {
    double log_sum = 0;
    for (double s : v) log_sum += std::log(s);
    std::printf("# %s: %zu configs, geometric-mean speedup %.2f, arithmetic mean %.2f, min %.2f\n",
                what, v.size(), std::exp(log_sum / v.size()),
                std::accumulate(v.begin(), v.end(), 0.0) / v.size(),
                *std::min_element(v.begin(), v.end()));
  };
  summary("shared-prefix configs", speedups);
  summary("shared-prefix configs with batch >= 16", speedups_batched);
  summary("shared-prefix configs, planner's choice (auto_us)", speedups_auto);
  summary("shared-prefix configs with batch >= 16, mma.sync-only variant", speedups_mmasync);
  return 0;
}
