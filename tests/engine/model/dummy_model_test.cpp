// make_dummy_model: real shapes, requested types (with fallbacks), determinism, sane values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/model/hf_config.h"
#include "engine/model/model_info.h"
#include "engine/model/model_loader.h"
#include "engine/model/quant/quant.h"
#include "engine/model/rope.h"
#include "engine/model/tensor_names.h"

namespace stemma {
namespace {

ModelConfig fixture_config(const std::string& rel) {
  std::ifstream f(std::string(STEMMA_FIXTURES_DIR) + "/" + rel);
  std::stringstream ss;
  ss << f.rdbuf();
  auto c = parse_hf_config(ss.str(), rel);
  REQUIRE(c.ok());
  return *c;
}

TEST_CASE("dummy model of Qwen2.5-0.5B shape (2 layers) stores the requested types") {
  ModelConfig c = fixture_config("configs/qwen2.5-0.5b.json");
  c.num_layers = 2;
  c.vocab_size = 1024;  // keep the test quick; widths stay real
  auto m = make_dummy_model(c, DType::kQ4_K, 42);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(validate_tensors(m->config, m->tensors, "dummy").ok());
  // 896-wide rows are not whole Q4_K blocks: stored as Q8_0; ffn_down rows (4864) are.
  CHECK(m->find("blk.0.attn_q.weight")->dtype == DType::kQ8_0);
  CHECK(m->find("blk.0.ffn_down.weight")->dtype == DType::kQ4_K);
  CHECK(m->find("blk.0.attn_norm.weight")->dtype == DType::kF32);
  CHECK(m->find("blk.0.attn_q.bias")->dtype == DType::kF32);
  CHECK(m->find("output.weight") == nullptr);  // tied

  // Values: matrices ~ N(0, 1/fan_in), norms ~ 1.
  const TensorView* down = m->find("blk.1.ffn_down.weight");
  std::vector<float> row(static_cast<size_t>(down->cols()));
  double ss = 0;
  size_t row_bytes = down->nbytes / static_cast<size_t>(down->rows());
  for (int64_t r = 0; r < 16; ++r) {
    REQUIRE(quant::dequantize_row(down->dtype, down->data + row_bytes * r, row.data(), down->cols())
                .ok());
    for (float v : row) ss += v * v;
  }
  double var = ss / (16.0 * static_cast<double>(down->cols()));
  CHECK(var * 4864 == doctest::Approx(1.0).epsilon(0.1));
  const TensorView* norm = m->find("output_norm.weight");
  float first;
  std::memcpy(&first, norm->data, 4);
  CHECK(std::fabs(first - 1.0f) < 0.3f);
}

TEST_CASE("dummy weights depend on the seed only") {
  ModelConfig c = fixture_config("configs/llama-3.2-1b.json");
  c.num_layers = 1;
  c.vocab_size = 256;
  c.hidden_size = 256;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.intermediate_size = 512;
  auto a = make_dummy_model(c, DType::kQ6_K, 7);
  auto b = make_dummy_model(c, DType::kQ6_K, 7);
  auto d = make_dummy_model(c, DType::kQ6_K, 8);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(d.ok());
  for (const auto& [name, t] : a->tensors) {
    const TensorView* u = b->find(name);
    REQUIRE(u != nullptr);
    CHECK(t.nbytes == u->nbytes);
    CHECK(std::memcmp(t.data, u->data, t.nbytes) == 0);
    CHECK(std::memcmp(t.data, d->find(name)->data, t.nbytes) != 0);
  }
}

TEST_CASE("bad dummy configs are refused") {
  ModelConfig c;
  auto m = make_dummy_model(c, DType::kF16, 1);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("vocab size") != std::string::npos);
}

TEST_CASE("rope inverse frequencies: plain, linear, llama3 bands, GGUF factors") {
  ModelConfig c = fixture_config("configs/llama-3.2-1b.json");
  auto f = rope_inv_freq(c, nullptr);
  REQUIRE(f.ok());
  REQUIRE(f->size() == 32);
  ModelConfig plain = c;
  plain.rope_scaling = RopeScaling{};
  auto p = rope_inv_freq(plain, nullptr);
  REQUIRE(p.ok());
  CHECK((*p)[0] == 1.0f);
  CHECK((*p)[1] == doctest::Approx(std::pow(500000.0, -2.0 / 64)));
  // High frequencies (short wavelengths) untouched, the lowest divided by the factor, monotone.
  CHECK((*f)[0] == (*p)[0]);
  CHECK((*f)[31] == doctest::Approx((*p)[31] / 32.0f));
  for (size_t i = 1; i < f->size(); ++i) CHECK((*f)[i] < (*f)[i - 1]);
  // The same scaling given as a per-pair divisor tensor (what GGUF llama3 files carry).
  std::vector<float> divisors(32);
  for (size_t i = 0; i < 32; ++i) divisors[i] = (*p)[i] / (*f)[i];
  TensorView t;
  t.name = "rope_freqs.weight";
  t.shape = {32};
  t.data = reinterpret_cast<const uint8_t*>(divisors.data());
  t.nbytes = 128;
  plain.rope_freq_factors = true;
  auto g = rope_inv_freq(plain, &t);
  REQUIRE(g.ok());
  for (size_t i = 0; i < 32; ++i) CHECK((*g)[i] == doctest::Approx((*f)[i]));
  CHECK_FALSE(rope_inv_freq(plain, nullptr).ok());
}

}  // namespace
}  // namespace stemma

namespace stemma {
namespace {

TEST_CASE("info of a dummy config matches info of the generated dummy model") {
  ModelConfig c = fixture_config("configs/qwen2.5-0.5b.json");
  c.num_layers = 2;
  c.vocab_size = 512;
  auto m = make_dummy_model(c, DType::kQ6_K, 3);
  REQUIRE(m.ok());
  auto a = model_info_json(*m);
  auto b = dummy_model_info_json(c, DType::kQ6_K);
  CHECK(a["sizes"] == b["sizes"]);
  CHECK(a["tensor_types"] == b["tensor_types"]);
  CHECK(a["parameter_count"] == b["parameter_count"]);
  CHECK(a["weight_bytes"] == b["weight_bytes"]);
  int64_t params = 0;
  for (const auto& [name, t] : m->tensors) params += t.num_elements();
  CHECK(a["parameter_count"].get<int64_t>() == params);
  CHECK(a["has_tokenizer"] == false);
  CHECK(a["architecture"] == "qwen2");
}

}  // namespace
}  // namespace stemma
