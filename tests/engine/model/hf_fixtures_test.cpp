// The tiny HF models in tests/fixtures/models (written by HF transformers + safetensors, see
// their README) load, agree with their config.json, and survive conversion to GGUF.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/model/gguf_convert.h"
#include "engine/model/model_loader.h"
#include "engine/model/quant/quant.h"
#include "engine/model/rope.h"
#include "tests/engine/model/test_files.h"

namespace stemma {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

TEST_CASE("HF fixture models load with their config.json values") {
  const std::string root = std::string(STEMMA_FIXTURES_DIR) + "/models";
  for (const char* name : {"llama", "llama3", "mistral", "qwen2", "qwen3"}) {
    for (const char* variant : {"", "/model-bf16"}) {
      std::string dir = root + "/" + name + variant;
      CAPTURE(dir);
      if (!std::filesystem::exists(dir + "/config.json")) {
        MESSAGE("fixture " << dir << " absent");
        continue;
      }
      auto j = read_json(dir + "/config.json");
      auto m = load_model(dir);
      REQUIRE_MESSAGE(m.ok(), m.status().to_string());
      const ModelConfig& c = m->config;
      CHECK(c.hidden_size == j["hidden_size"].get<int64_t>());
      CHECK(c.num_layers == j["num_hidden_layers"].get<int64_t>());
      CHECK(c.num_heads == j["num_attention_heads"].get<int64_t>());
      CHECK(c.num_kv_heads == j["num_key_value_heads"].get<int64_t>());
      CHECK(c.intermediate_size == j["intermediate_size"].get<int64_t>());
      CHECK(c.vocab_size == j["vocab_size"].get<int64_t>());
      if (j.contains("head_dim") && !j["head_dim"].is_null()) {
        CHECK(c.head_dim == j["head_dim"].get<int64_t>());
      }
      CHECK(c.tie_embeddings == j.value("tie_word_embeddings", false));
      CHECK((m->find("output.weight") == nullptr) == c.tie_embeddings);
      const DType want = std::string(variant).empty() ? DType::kF32 : DType::kBF16;
      CHECK(m->find("blk.0.attn_q.weight")->dtype == want);
      if (std::string(name) == "llama3") {
        CHECK(c.rope_scaling.type == RopeScaling::Type::kLlama3);
      }

      // To GGUF and back: same config (llama family interleaved), same values for F32.
      testing::TempDir tmp;
      ConvertOptions opt;
      opt.type = want;
      REQUIRE(convert_to_gguf(*m, tmp.file("m.gguf"), opt).ok());
      auto g = load_model(tmp.file("m.gguf"));
      REQUIRE_MESSAGE(g.ok(), g.status().to_string());
      CHECK(g->config.head_dim == c.head_dim);
      CHECK(g->config.rope_interleaved == (c.arch == Architecture::kLlama));
      CHECK(g->config.rope_scaling.type == c.rope_scaling.type);
      if (c.rope_scaling.type == RopeScaling::Type::kLlama3) {
        CHECK(g->config.rope_scaling.factor ==
              doctest::Approx(c.rope_scaling.factor).epsilon(1e-4));
        CHECK(g->config.rope_scaling.high_freq_factor ==
              doctest::Approx(c.rope_scaling.high_freq_factor).epsilon(1e-3));
        CHECK(g->config.rope_scaling.original_max_position == c.rope_scaling.original_max_position);
      }
      auto f_hf = rope_inv_freq(c, nullptr);
      auto f_gg = rope_inv_freq(g->config, g->find("rope_freqs.weight"));
      REQUIRE(f_hf.ok());
      REQUIRE(f_gg.ok());
      for (size_t i = 0; i < f_hf->size(); ++i) {
        CHECK((*f_gg)[i] == doctest::Approx((*f_hf)[i]).epsilon(1e-6));
      }
      const TensorView* a = m->find("blk.1.ffn_down.weight");
      const TensorView* b = g->find("blk.1.ffn_down.weight");
      REQUIRE(a->nbytes == b->nbytes);
      CHECK(std::memcmp(a->data, b->data, a->nbytes) == 0);
    }
  }
}

}  // namespace
}  // namespace stemma
