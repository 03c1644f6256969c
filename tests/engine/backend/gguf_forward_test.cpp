// The CPU forward pass on GGUF files made in-test with the model converter: the HF fixture models
// as f32 / q8_0 / q4_k GGUF against HF's logits, and a synthetic model wide enough (256) for real
// Q4_K / Q6_K / Q4_0 blocks against a float64 reference. Quantized tolerances were measured
// (docs/backend-cpu.md) and are set with about 2x headroom.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/model/gguf_convert.h"
#include "engine/model/model_loader.h"
#include "tests/engine/backend/tiny_model.h"

using namespace stemma;
using namespace stemma::cpu;

namespace {

const std::string kModels = std::string(STEMMA_FIXTURES_DIR) + "/models/";

struct Agreement {
  double max_err_over_range = 0;  // max |ours - ref| / (max(ref) - min(ref))
  double correlation = 0;         // Pearson, over all logits
};

template <typename T>
Agreement compare(const std::vector<float>& got, const T* ref, size_t n) {
  const auto [lo, hi] = std::minmax_element(ref, ref + n);
  double max_err = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (size_t i = 0; i < n; ++i) {
    const double a = got[i], b = static_cast<double>(ref[i]);
    max_err = std::max(max_err, std::fabs(a - b));
    sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
  }
  const double dn = static_cast<double>(n);
  const double cov = sab / dn - sa / dn * sb / dn;
  const double va = saa / dn - sa / dn * sa / dn, vb = sbb / dn - sb / dn * sb / dn;
  return {max_err / static_cast<double>(*hi - *lo), cov / std::sqrt(va * vb)};
}

std::string temp_path(const std::string& stem) {
  return std::string(STEMMA_BUILD_DIR) + "/backend_cpu_gguf_" + stem + ".gguf";
}

std::shared_ptr<const LoadedModel> convert_and_load(const LoadedModel& src, DType type,
                                                    const std::string& stem) {
  ConvertOptions opt;
  opt.type = type;
  const std::string path = temp_path(stem);
  Status st = convert_to_gguf(src, path, opt);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto loaded = load_model(path);
  std::remove(path.c_str());  // the mapping stays valid after unlink
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  return std::make_shared<const LoadedModel>(std::move(loaded).value());
}

std::vector<float> all_logits(std::shared_ptr<const LoadedModel> model,
                              const std::vector<int32_t>& tokens) {
  KvCacheShape kv;
  kv.page_size = 16;
  kv.num_pages = 16;
  auto ex = CpuExecutor::create(std::move(model), kv, 2);
  REQUIRE_MESSAGE(ex.ok(), ex.status().to_string());
  auto out = greedy_generate(**ex, tokens, 0, 0, true);
  REQUIRE(out.ok());
  return out->prompt_logits;
}

// The same model with every tensor dequantized to F32: what the quantized weights compute
// exactly, without the 8-bit activation blocks the integer kernels use.
std::shared_ptr<const LoadedModel> dequantized_copy(std::shared_ptr<const LoadedModel> q) {
  auto m = std::make_shared<LoadedModel>();
  m->config = q->config;
  m->owned.clear();
  for (const auto& [name, t] : q->tensors) {
    auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(t.num_elements()) * 4);
    const size_t rb = row_bytes(t.dtype, t.cols());
    for (int64_t r = 0; r < t.rows(); ++r) {
      dequantize_row(t.dtype, t.data + rb * static_cast<size_t>(r), t.cols(),
                     reinterpret_cast<float*>(buf->data()) + r * t.cols());
    }
    TensorView f = t;
    f.dtype = DType::kF32;
    f.data = buf->data();
    f.nbytes = buf->size();
    m->tensors[name] = f;
    m->owned.push_back(buf);
  }
  m->files = q->files;
  return m;
}

}  // namespace

TEST_CASE("GGUF copies of the HF fixtures (f32, q8_0, q4_k) agree with HF's logits") {
  for (const std::string name : {"llama", "llama3", "mistral", "qwen2", "qwen3"}) {
    std::ifstream in(kModels + name + "/reference.json");
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json ref = nlohmann::json::parse(text.str());
    const nlohmann::json& v = ref["variants"]["f32"];
    std::ifstream lf(kModels + name + "/logits-f32.bin", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
    std::vector<float> hf(bytes.size() / 4);
    std::memcpy(hf.data(), bytes.data(), hf.size() * 4);
    const nlohmann::json& seq = v["sequences"][2];  // the 40-token prompt
    std::vector<int32_t> tokens = seq["prompt"].get<std::vector<int32_t>>();
    const std::vector<int32_t> greedy = seq["greedy"].get<std::vector<int32_t>>();
    tokens.insert(tokens.end(), greedy.begin(), greedy.end() - 1);
    const float* expect = hf.data() + seq["logits_offset_floats"].get<size_t>();
    const size_t n = tokens.size() * static_cast<size_t>(ref["vocab_size"].get<int64_t>());

    auto src = load_model(kModels + name);
    REQUIRE(src.ok());
    for (DType type : {DType::kF32, DType::kQ8_0, DType::kQ4_K}) {
      auto model = convert_and_load(*src, type, name + "_" + dtype_name(type));
      // llama-arch GGUF permutes Q/K rows for interleaved rope: the same math, another layout.
      if (name != "qwen2" && name != "qwen3") CHECK(model->config.rope_interleaved);
      const std::vector<float> got = all_logits(model, tokens);
      const Agreement a = compare(got, expect, n);
      const std::vector<float> exact = all_logits(dequantized_copy(model), tokens);
      const Agreement k = compare(got, exact.data(), exact.size());
      INFO("kernels vs dequantized weights: max err / range " << k.max_err_over_range
                                                              << ", correlation " << k.correlation);
      const std::string tname = dtype_name(type);
      INFO(name << " gguf " << tname << ": max err / range " << a.max_err_over_range
                << ", correlation " << a.correlation);
      if (type == DType::kF32) {
        CHECK(a.max_err_over_range < 1e-5);  // measured <= 1.9e-6
        CHECK(k.max_err_over_range == 0.0);
      } else {
        // Hidden size 64 leaves no room for 256-wide K-quant blocks: q4_k falls back to q8_0
        // (and f16) per tensor here, so both quantized types meet the Q8_0 bounds. These random
        // models amplify small errors; measured: <= 0.049 of the range, correlation >= 0.998
        // against HF; the 8-bit activations alone (vs the dequantized weights): <= 0.051.
        CHECK(a.max_err_over_range < 0.1);
        CHECK(a.correlation > 0.996);
        CHECK(k.max_err_over_range < 0.1);
        CHECK(k.correlation > 0.996);
      }
    }
  }
}

TEST_CASE("K-quant and Q4_0 GGUF models (256-wide) stay near the float64 reference") {
  ModelConfig c = testing::tiny_config(Architecture::kQwen2);
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  c.vocab_size = 300;
  auto src = testing::tiny_model(c, 21, 0.08f);
  std::vector<int32_t> tokens;
  for (int i = 0; i < 24; ++i) tokens.push_back((i * 37 + 11) % 300);
  const std::vector<double> ref = testing::reference_logits(*src, tokens);
  // Bounds against the float64 reference of the unquantized weights, about 2x what was measured
  // (max err / range: q8_0 0.011, q6_k 0.026, q4_k 0.128, q4_0 0.131; correlation >= 0.954).
  const std::pair<DType, double> cases[] = {
      {DType::kQ8_0, 0.025}, {DType::kQ6_K, 0.05}, {DType::kQ4_K, 0.25}, {DType::kQ4_0, 0.25}};
  for (auto [type, bound] : cases) {
    auto model = convert_and_load(*src, type, std::string("synthetic_") + dtype_name(type));
    const TensorView* up = model->find("blk.0.ffn_up.weight");
    REQUIRE(up != nullptr);
    CHECK(up->dtype == type);  // the blocks under test really are that type
    const std::vector<float> got = all_logits(model, tokens);
    const Agreement a = compare(got, ref.data(), ref.size());
    const std::vector<float> exact = all_logits(dequantized_copy(model), tokens);
    const Agreement k = compare(got, exact.data(), exact.size());
    const std::string tname = dtype_name(type);
    INFO("kernels vs dequantized weights: max err / range " << k.max_err_over_range
                                                            << ", correlation " << k.correlation);
    INFO("synthetic gguf " << tname << ": max err / range " << a.max_err_over_range
                           << ", correlation " << a.correlation);
    CHECK(a.max_err_over_range < bound);
    CHECK(a.correlation > 0.92);
    // The integer kernels against exact float math on the same (dequantized) weights: only the
    // 8-bit activation blocks differ. Measured: <= 0.0106 of the range, correlation >= 0.99967.
    CHECK(k.max_err_over_range < 0.02);
    CHECK(k.correlation > 0.999);
  }
}

TEST_CASE("general.alignment = 1: blocks at odd addresses give the same logits as aligned ones") {
  // Issue 15 item 6: with alignment 1 a Q8_0 tensor may start at an odd byte of the mapping;
  // reading its 2-aligned block struct there was undefined behaviour (UBSan in CI).
  ModelConfig c = testing::tiny_config(Architecture::kQwen2);
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.head_dim = 64;
  c.vocab_size = 300;
  auto src = testing::tiny_model(c, 5, 0.08f);
  std::vector<int32_t> tokens;
  for (int i = 0; i < 9; ++i) tokens.push_back((i * 41 + 7) % 300);
  for (DType type : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kF16}) {
    const std::string tname = dtype_name(type);
    const std::vector<float> want =
        all_logits(convert_and_load(*src, type, "aligned_" + tname), tokens);
    // Every tensor's size is even, so the header's length decides the parity of all offsets:
    // one of two name lengths puts them at odd addresses.
    bool odd = false;
    for (const std::string name : {"a", "ab"}) {
      ConvertOptions o;
      o.type = type;
      o.alignment = 1;
      o.name = name;
      const std::string path = temp_path("align1_" + tname);
      Status st = convert_to_gguf(*src, path, o);
      REQUIRE_MESSAGE(st.ok(), st.to_string());
      auto loaded = load_model(path);
      std::remove(path.c_str());
      REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
      auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
      const TensorView* up = model->find("blk.0.ffn_up.weight");
      REQUIRE(up != nullptr);
      CHECK(up->dtype == type);
      if (reinterpret_cast<uintptr_t>(up->data) % 2 == 0) continue;
      odd = true;
      INFO(tname);
      CHECK(all_logits(model, tokens) == want);
    }
    CHECK_MESSAGE(odd, "no file put the tensors at odd addresses");
  }
}
