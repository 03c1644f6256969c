// The CUDA backend (label gpu: skipped without a GPU):
//  - the HF reference suite through the CudaExecutor and through the Engine with backend cuda:
//    F32 models compute in fp32 (tolerance 1e-4 of max |logit|, as the CPU); BF16 models compute
//    in bf16 with an fp32 residual stream (tolerance kBf16Tolerance, argmax where HF's top two
//    are further apart than that);
//  - randomized batches shaped like radix trees (shared cached prefixes, chunked prefills and
//    decodes mixed) against the CPU backend on the same pages;
//  - quantized models (Q8_0, Q4_K, Q6_K) against the CPU backend: same greedy tokens where the
//    margins allow.
// Figures print as MESSAGE lines; docs/gpu.md records a run.
#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>

#include "engine/api/engine.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/backend/cuda/cuda_executor.h"
#include "engine/engine_internal.h"
#include "engine/model/quant/quant.h"
#include "tests/engine/backend/reference_suite.h"

namespace stemma {
namespace {

using testing::ReferenceSuite;
using testing::ReferenceVariant;

[[maybe_unused]] const bool kHaveGpu = [] {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::fprintf(stderr, "no CUDA device: skipping\n");
    std::exit(77);
  }
  return true;
}();

constexpr double kF32Tolerance = 1e-4;
constexpr double kBf16Tolerance = 5e-2;  // bf16 activations and KV pages (docs/gpu.md)

const ReferenceSuite& suite() {
  static const ReferenceSuite s = [] {
    std::string error;
    auto r = testing::load_reference_suite(std::string(STEMMA_FIXTURES_DIR) + "/reference", &error);
    if (!error.empty()) FAIL(error);
    return r;
  }();
  return s;
}

std::string work_dir() {
  const std::string d = std::string(STEMMA_BUILD_DIR) + "/reference-models";
  std::filesystem::create_directories(d);
  return d;
}

std::unique_ptr<cuda::CudaExecutor> gpu_executor(std::shared_ptr<const LoadedModel> model,
                                                 int64_t pages, bool shared = true) {
  KvCacheShape kv;
  kv.page_size = 16;
  kv.num_pages = pages;
  CudaOptions o;
  o.shared_prefix_attention = shared;
  auto ex = cuda::CudaExecutor::create(std::move(model), kv, o);
  REQUIRE_MESSAGE(ex.ok(), ex.status().to_string());
  return std::move(ex).value();
}

void check_reference(const ReferenceVariant& v) {
  const ReferenceSuite& s = suite();
  const int64_t vocab = s.vocab;
  const bool f32 = v.dtype == "f32";
  const double tol = f32 ? kF32Tolerance : kBf16Tolerance;
  const double scale = v.max_abs_logit;
  const int64_t len = f32 ? static_cast<int64_t>(s.prompt.size()) : 1000;
  auto loaded = testing::load_reference_model(v, work_dir());
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());

  auto ex = gpu_executor(model, (len + 15) / 16);
  auto out =
      cpu::greedy_generate(*ex, std::span<const int32_t>(s.prompt).first(static_cast<size_t>(len)),
                           0, 0, /*keep_prompt_logits=*/true);
  REQUIRE_MESSAGE(out.ok(), out.status().to_string());
  double worst = 0;
  int agree = 0, rows = 0;
  for (size_t i = 0; i < s.positions.size(); ++i) {
    const int64_t p = s.positions[i];
    if (p >= len) continue;
    const auto d = testing::compare_row(out->prompt_logits.data() + p * vocab, s.row(v, i), vocab,
                                        tol * scale);
    worst = std::max(worst, d.max_abs / scale);
    ++rows;
    agree += d.argmax_agrees;
    INFO(v.model << " " << v.dtype << " position " << p);
    CHECK(d.max_abs / scale <= tol);
    CHECK(d.argmax_agrees);
  }

  // The engine on the GPU: chunked prefill, paged KV, then a request served from the cache.
  EngineOptions o;
  o.backend = Backend::kCuda;
  o.page_size = 16;
  o.prefill_chunk = 256;
  o.num_pages = 256;
  auto engine = internal::open_engine(o, {.model = model});
  REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
  GenerationOptions greedy;
  greedy.max_tokens = static_cast<int32_t>(v.greedy.size());
  greedy.temperature = 0;
  greedy.ignore_eos = true;
  std::vector<int32_t> prefix(s.prompt.begin(), s.prompt.begin() + s.greedy_prefix);
  auto first = (*engine)->generate(prefix, greedy);
  REQUIRE_MESSAGE(first.ok(), first.status().to_string());
  auto again = (*engine)->generate(prefix, greedy);
  REQUIRE(again.ok());
  CHECK(again->cached_tokens >= s.greedy_prefix - 16);
  CHECK(again->tokens == first->tokens);
  int checked = 0, same = 0;
  while (checked < static_cast<int>(v.greedy.size()) &&
         v.greedy_margins[static_cast<size_t>(checked)] > tol * scale)
    ++checked;
  for (int j = 0; j < checked; ++j) {
    if (first->tokens[static_cast<size_t>(j)] != v.greedy[static_cast<size_t>(j)]) break;
    ++same;
  }
  CHECK(same == checked);
  MESSAGE("gpu " << v.model << " " << v.dtype << ": worst " << worst << ", argmax " << agree << "/"
                 << rows << ", greedy " << same << "/" << checked);
}

}  // namespace

TEST_CASE("the CUDA backend matches HF transformers on the reference suite") {
  for (const ReferenceVariant& v : suite().variants) {
    SUBCASE((v.model + " " + v.dtype).c_str()) {
      check_reference(v);
    }
  }
}

TEST_CASE("radix-shaped batches: the CUDA executor agrees with the CPU one on the same pages") {
  const ReferenceSuite& s = suite();
  for (const std::string name : {"llama3-gqa8-hd64", "qwen3-gqa2-hd128"}) {
    for (const std::string dtype : {"f32", "bf16"}) {
      const ReferenceVariant* v = nullptr;
      for (const auto& c : s.variants)
        if (c.model == name && c.dtype == dtype) v = &c;
      REQUIRE(v != nullptr);
      auto loaded = testing::load_reference_model(*v, work_dir());
      REQUIRE(loaded.ok());
      auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
      KvCacheShape kv;
      kv.page_size = 16;
      kv.num_pages = 512;
      auto cpu = cpu::CpuExecutor::create(model, kv, 2);
      REQUIRE(cpu.ok());
      for (bool shared : {true, false}) {
        auto gpu = gpu_executor(model, 512, shared);
        std::mt19937 rng(42);
        double worst = 0;
        for (int trial = 0; trial < 6; ++trial) {
          // A prefix of P pages written by one prefill, then R requests branching off it (each
          // with its own pages) in one step: some prefilling a chunk, some decoding one token.
          const int32_t prefix_pages = 1 + static_cast<int32_t>(rng() % 12);
          const int32_t prefix_len = prefix_pages * 16;
          std::vector<int32_t> prefix_pages_ids(static_cast<size_t>(prefix_pages));
          for (int32_t i = 0; i < prefix_pages; ++i) prefix_pages_ids[static_cast<size_t>(i)] = i;
          std::vector<int32_t> toks(static_cast<size_t>(prefix_len));
          for (auto& t : toks) t = static_cast<int32_t>(rng() % s.vocab);
          SequenceStep pre;
          pre.tokens = toks;
          pre.past_len = 0;
          pre.pages = prefix_pages_ids;
          std::vector<float> sink;
          REQUIRE((*cpu)->forward(std::span<const SequenceStep>(&pre, 1), sink).ok());
          REQUIRE(gpu->forward(std::span<const SequenceStep>(&pre, 1), sink).ok());
          const int R = 2 + static_cast<int>(rng() % 6);
          std::vector<std::vector<int32_t>> pages(static_cast<size_t>(R)),
              news(static_cast<size_t>(R));
          std::vector<SequenceStep> batch;
          int32_t next_page = prefix_pages;
          for (int r = 0; r < R; ++r) {
            const int32_t n = rng() % 2 ? 1 : 1 + static_cast<int32_t>(rng() % 40);
            pages[static_cast<size_t>(r)] = prefix_pages_ids;
            for (int32_t k = 0; k < (n + 15) / 16 + 1; ++k)
              pages[static_cast<size_t>(r)].push_back(next_page++);
            news[static_cast<size_t>(r)].resize(static_cast<size_t>(n));
            for (auto& t : news[static_cast<size_t>(r)]) t = static_cast<int32_t>(rng() % s.vocab);
          }
          for (int r = 0; r < R; ++r) {
            SequenceStep st;
            st.tokens = news[static_cast<size_t>(r)];
            st.past_len = prefix_len;
            st.pages = pages[static_cast<size_t>(r)];
            st.all_logits = r % 3 == 0;
            batch.push_back(st);
          }
          std::vector<float> a, b;
          REQUIRE((*cpu)->forward(batch, a).ok());
          REQUIRE(gpu->forward(batch, b).ok());
          REQUIRE(a.size() == b.size());
          double mx = 0, diff = 0;
          for (size_t i = 0; i < a.size(); ++i) {
            mx = std::max(mx, static_cast<double>(std::fabs(a[i])));
            diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
          }
          worst = std::max(worst, diff / mx);
          INFO(name << " " << dtype << " shared " << shared << " trial " << trial);
          CHECK(diff / mx <= (dtype == "f32" ? kF32Tolerance : kBf16Tolerance));

          // The same step again with argmax rows (its KV writes repeat the same values): each
          // argmax_only step gets its row's argmax as an id, the other steps their rows.
          std::vector<SequenceStep> picks = batch;
          for (auto& st : picks) st.argmax_only = !st.all_logits;
          std::vector<float> c;
          std::vector<int32_t> ids;
          REQUIRE(gpu->forward(picks, nullptr, c, ids).ok());
          const size_t V = static_cast<size_t>(model->config.vocab_size);
          size_t row = 0, ci = 0, pi = 0;
          double row_diff = 0;
          for (const auto& st : picks) {
            const size_t rows = st.all_logits ? st.tokens.size() : 1;
            if (st.argmax_only) {
              REQUIRE(pi < ids.size());
              const float* br = b.data() + row * V;
              const float best = *std::max_element(br, br + V);
              const int32_t id = ids[pi++];
              REQUIRE(id >= 0);
              REQUIRE(static_cast<size_t>(id) < V);
              CHECK(br[id] >= best - 1e-5f * std::fabs(best));
            } else {
              REQUIRE(ci + rows * V <= c.size());
              for (size_t i = 0; i < rows * V; ++i) {
                row_diff =
                    std::max(row_diff, static_cast<double>(std::fabs(c[ci + i] - b[row * V + i])));
              }
              ci += rows * V;
            }
            row += rows;
          }
          CHECK(pi == ids.size());
          CHECK(ci == c.size());
          CHECK(row_diff <= 1e-5 * mx);
        }
        MESSAGE("gpu vs cpu " << name << " " << dtype << (shared ? " shared" : " baseline")
                              << ": worst " << worst);
      }
    }
  }
}

TEST_CASE(
    "quantized weights on the GPU: logits of the same weights dequantized, computed in fp32") {
  // The reference is the CPU backend on an fp32 copy of the dequantized weights, so only the
  // GPU's decoding of the blocks and its bf16 activations differ (the CPU backend's own
  // quantized path quantizes activations to 8 bits, a different approximation).
  const ReferenceSuite& s = suite();
  const ReferenceVariant& v = s.variants.front();
  auto config = parse_hf_config(v.config, v.model);
  REQUIRE(config.ok());
  for (DType type : {DType::kQ8_0, DType::kQ4_K, DType::kQ6_K, DType::kF16}) {
    auto dummy = make_dummy_model(*config, type, v.seed, DummyInit::kReference);
    REQUIRE(dummy.ok());
    auto model = std::make_shared<const LoadedModel>(std::move(dummy).value());
    LoadedModel plain;
    plain.config = model->config;
    for (const auto& [name, t] : model->tensors) {
      auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(t.num_elements()) * 4);
      for (int64_t r = 0; r < t.rows(); ++r) {
        size_t rb = 0;
        REQUIRE(dtype_row_bytes(t.dtype, t.cols(), &rb));
        REQUIRE(quant::dequantize_row(t.dtype, t.data + rb * static_cast<size_t>(r),
                                      reinterpret_cast<float*>(buf->data()) + r * t.cols(),
                                      t.cols())
                    .ok());
      }
      TensorView f = t;
      f.dtype = DType::kF32;
      f.data = buf->data();
      f.nbytes = buf->size();
      plain.tensors[name] = f;
      plain.owned.push_back(buf);
    }
    auto reference = std::make_shared<const LoadedModel>(std::move(plain));
    KvCacheShape kv;
    kv.page_size = 16;
    kv.num_pages = 64;
    auto cpu = cpu::CpuExecutor::create(reference, kv, 2);
    REQUIRE(cpu.ok());
    auto gpu = gpu_executor(model, 64);
    std::vector<int32_t> prompt(s.prompt.begin(), s.prompt.begin() + 300);
    auto a = cpu::greedy_generate(**cpu, prompt, 24, 128, true);
    auto b = cpu::greedy_generate(*gpu, prompt, 24, 128, true);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    double mx = 0, diff = 0;
    for (size_t i = 0; i < a->prompt_logits.size(); ++i) {
      mx = std::max(mx, static_cast<double>(std::fabs(a->prompt_logits[i])));
      diff =
          std::max(diff, static_cast<double>(std::fabs(a->prompt_logits[i] - b->prompt_logits[i])));
    }
    size_t same = 0;
    while (same < a->tokens.size() && a->tokens[same] == b->tokens[same]) ++same;
    MESSAGE("gpu " << dtype_name(type) << " vs cpu fp32 on the same weights: logits " << diff / mx
                   << ", greedy " << same << "/" << a->tokens.size());
    CHECK(diff / mx <= kBf16Tolerance);
  }
}

}  // namespace stemma
