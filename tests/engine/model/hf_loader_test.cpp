// HF folders: config.json parsing, safetensors (single and sharded), name mapping, validation.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor_names.h"
#include "tests/engine/model/test_files.h"

namespace stemma {
namespace {
using testing::StTensor;
using testing::TempDir;

std::string read_fixture(const std::string& rel) {
  std::ifstream f(std::string(STEMMA_FIXTURES_DIR) + "/" + rel);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::json tiny_config_json(const std::string& arch, bool tie) {
  return {{"architectures", {arch}},    {"hidden_size", 64},
          {"intermediate_size", 96},    {"num_hidden_layers", 2},
          {"num_attention_heads", 4},   {"num_key_value_heads", 2},
          {"vocab_size", 50},           {"max_position_embeddings", 128},
          {"rms_norm_eps", 1e-5},       {"rope_theta", 10000.0},
          {"tie_word_embeddings", tie}, {"bos_token_id", 1},
          {"eos_token_id", {2, 3}}};
}

// Writes a folder whose tensors are exactly what `cfg` expects, with HF names.
std::vector<StTensor> hf_tensors_for(const ModelConfig& c) {
  std::vector<StTensor> out;
  uint32_t seed = 1;
  for (const auto& e : expected_tensors(c)) {
    int64_t n = 1;
    for (auto d : e.shape) n *= d;
    out.push_back({*gguf_to_hf_name(e.name), "F32", e.shape, testing::random_f32_bytes(n, seed++)});
  }
  return out;
}

TEST_CASE("config.json of Qwen2.5-0.5B and Llama-3.2-1B parse to their values") {
  for (const char* name : {"configs/qwen2.5-0.5b.json", "configs/llama-3.2-1b.json"}) {
    std::string text = read_fixture(name);
    auto j = nlohmann::json::parse(text);
    auto c = parse_hf_config(text, name);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    CHECK(c->hidden_size == j["hidden_size"].get<int64_t>());
    CHECK(c->num_layers == j["num_hidden_layers"].get<int64_t>());
    CHECK(c->num_heads == j["num_attention_heads"].get<int64_t>());
    CHECK(c->num_kv_heads == j["num_key_value_heads"].get<int64_t>());
    CHECK(c->intermediate_size == j["intermediate_size"].get<int64_t>());
    CHECK(c->vocab_size == j["vocab_size"].get<int64_t>());
    CHECK(c->max_position == j["max_position_embeddings"].get<int64_t>());
    CHECK(c->rope_theta == doctest::Approx(j["rope_theta"].get<double>()));
    CHECK(c->rms_norm_eps == doctest::Approx(j["rms_norm_eps"].get<double>()));
    CHECK(c->tie_embeddings == j["tie_word_embeddings"].get<bool>());
    CHECK(c->bos_token_id == j["bos_token_id"].get<int>());
    REQUIRE(c->eos_token_ids.size() == 1);
    CHECK(c->eos_token_ids[0] == j["eos_token_id"].get<int>());
    CHECK(c->head_dim ==
          (j.contains("head_dim") ? j["head_dim"].get<int64_t>() : c->hidden_size / c->num_heads));
    CHECK_FALSE(c->rope_interleaved);
    if (j.contains("rope_scaling")) {
      CHECK(c->rope_scaling.type == RopeScaling::Type::kLlama3);
      CHECK(c->rope_scaling.factor == doctest::Approx(j["rope_scaling"]["factor"].get<double>()));
      CHECK(c->rope_scaling.original_max_position ==
            j["rope_scaling"]["original_max_position_embeddings"].get<int64_t>());
      CHECK(c->arch == Architecture::kLlama);
    } else {
      CHECK(c->arch == Architecture::kQwen2);
      CHECK(c->attn_qkv_bias);
    }
  }
}

TEST_CASE("config.json: unknown architecture, eos lists, linear rope, bad values") {
  auto j = tiny_config_json("GPT2LMHeadModel", false);
  auto c = parse_hf_config(j.dump(), "cfg");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("GPT2LMHeadModel") != std::string::npos);

  j = tiny_config_json("MistralForCausalLM", false);
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE(c.ok());
  CHECK(c->arch_name == "mistral");
  CHECK(c->eos_token_ids == std::vector<int32_t>{2, 3});
  CHECK(c->rope_scaling.type == RopeScaling::Type::kLinear);
  CHECK(c->rope_scaling.factor == 2.0f);

  // yarn is supported (its original context defaults to max_position_embeddings, as in HF);
  // longrope, whose frequencies follow each call's length, is refused by name.
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 2.0}};
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE(c.ok());
  CHECK(c->rope_scaling.type == RopeScaling::Type::kYarn);
  CHECK(c->rope_scaling.original_max_position == c->max_position);
  j["rope_scaling"] = {{"rope_type", "longrope"}, {"factor", 2.0}};
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("longrope") != std::string::npos);

  j = tiny_config_json("LlamaForCausalLM", false);
  j["num_key_value_heads"] = 3;
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("kv head") != std::string::npos);

  j = tiny_config_json("LlamaForCausalLM", false);
  j.erase("hidden_size");
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("hidden_size") != std::string::npos);

  c = parse_hf_config("{not json", "cfg");
  CHECK_FALSE(c.ok());

  j = tiny_config_json("Qwen3ForCausalLM", false);
  j["head_dim"] = 32;  // explicit, differs from hidden/heads
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE(c.ok());
  CHECK(c->head_dim == 32);
  CHECK(c->qk_norm);

  j = tiny_config_json("LlamaForCausalLM", false);
  j["attention_bias"] = true;
  c = parse_hf_config(j.dump(), "cfg");
  REQUIRE(c.ok());
  CHECK(c->attn_qkv_bias);
  CHECK(c->attn_output_bias);
}

TEST_CASE("an HF folder loads with GGUF names and its bytes in place") {
  for (const char* arch : {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"}) {
    for (bool tie : {false, true}) {
      TempDir dir;
      auto j = tiny_config_json(arch, tie);
      testing::write_text(dir.file("config.json"), j.dump());
      auto cfg = parse_hf_config(j.dump(), "cfg");
      REQUIRE(cfg.ok());
      auto ts = hf_tensors_for(*cfg);
      if (tie) {  // some checkpoints ship lm_head even when tied; it must be dropped
        ts.push_back({"lm_head.weight", "F32", {50, 64}, testing::random_f32_bytes(50 * 64, 99)});
      }
      testing::write_file(dir.file("model.safetensors"), testing::safetensors_image(ts));
      auto m = load_model(dir.path().string());
      REQUIRE_MESSAGE(m.ok(), m.status().to_string());
      CHECK(m->source_format == "safetensors");
      CHECK(m->config.tie_embeddings == tie);
      CHECK((m->find("output.weight") == nullptr) == tie);
      for (const auto& t : ts) {
        if (tie && t.name == "lm_head.weight") continue;
        const TensorView* v = m->find(*hf_to_gguf_name(t.name));
        REQUIRE(v != nullptr);
        CHECK(v->shape == t.shape);
        REQUIRE(v->nbytes == t.bytes.size());
        CHECK(std::memcmp(v->data, t.bytes.data(), t.bytes.size()) == 0);
      }
      if (std::string(arch) == "Qwen2ForCausalLM") CHECK(m->find("blk.1.attn_k.bias") != nullptr);
      if (std::string(arch) == "Qwen3ForCausalLM")
        CHECK(m->find("blk.0.attn_q_norm.weight") != nullptr);
    }
  }
}

TEST_CASE("sharded safetensors with an index load as one model") {
  TempDir dir;
  auto j = tiny_config_json("LlamaForCausalLM", false);
  testing::write_text(dir.file("config.json"), j.dump());
  auto cfg = parse_hf_config(j.dump(), "cfg");
  auto ts = hf_tensors_for(*cfg);
  std::vector<StTensor> a(ts.begin(), ts.begin() + ts.size() / 2),
      b(ts.begin() + ts.size() / 2, ts.end());
  testing::write_file(dir.file("model-00001-of-00002.safetensors"), testing::safetensors_image(a));
  testing::write_file(dir.file("model-00002-of-00002.safetensors"), testing::safetensors_image(b));
  nlohmann::json index = {{"metadata", {{"total_size", 0}}},
                          {"weight_map", nlohmann::json::object()}};
  for (const auto& t : a) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : b) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  testing::write_text(dir.file("model.safetensors.index.json"), index.dump());
  testing::write_text(dir.file("generation_config.json"), R"({"eos_token_id": [3, 7]})");
  auto m = load_model(dir.file("config.json"));  // config.json stands for its folder
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(m->config.eos_token_ids == std::vector<int32_t>{2, 3, 7});  // config's, then new ones
  CHECK(m->files.size() == 2);
  CHECK(m->tensors.size() == ts.size());
}

TEST_CASE("missing and mis-shaped tensors are named") {
  TempDir dir;
  auto j = tiny_config_json("Qwen2ForCausalLM", false);
  testing::write_text(dir.file("config.json"), j.dump());
  auto cfg = parse_hf_config(j.dump(), "cfg");
  auto ts = hf_tensors_for(*cfg);
  std::vector<StTensor> kept;
  for (auto& t : ts) {
    if (t.name == "model.layers.1.self_attn.k_proj.bias") continue;
    if (t.name == "model.layers.0.mlp.up_proj.weight") {
      t.shape = {64, 96};  // transposed
    }
    kept.push_back(t);
  }
  testing::write_file(dir.file("model.safetensors"), testing::safetensors_image(kept));
  auto m = load_model(dir.path().string());
  REQUIRE_FALSE(m.ok());
  const std::string& msg = m.status().message();
  CHECK(msg.find("missing tensor 'blk.1.attn_k.bias'") != std::string::npos);
  CHECK(msg.find("'blk.0.ffn_up.weight' has shape [64, 96], expected [96, 64]") !=
        std::string::npos);
}

TEST_CASE("unknown tensor names and bad paths are refused by name") {
  TempDir dir;
  auto j = tiny_config_json("LlamaForCausalLM", false);
  testing::write_text(dir.file("config.json"), j.dump());
  auto cfg = parse_hf_config(j.dump(), "cfg");
  auto ts = hf_tensors_for(*cfg);
  ts.push_back({"model.vision_tower.weight", "F32", {2}, testing::random_f32_bytes(2, 5)});
  testing::write_file(dir.file("model.safetensors"), testing::safetensors_image(ts));
  auto m = load_model(dir.path().string());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("model.vision_tower.weight") != std::string::npos);
  auto none = load_model(dir.file("nope"));
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == StatusCode::kNotFound);
}

TEST_CASE("an HF folder's tokenizer.json is loaded with the model") {
  // Issue 15 item 16: the engine's error said to open "an HF folder with tokenizer.json", but
  // the loader never read it. Qwen2.5's tokenizer files (downloaded by scripts/setup.sh).
  const std::string assets = std::string(STEMMA_ASSETS_DIR) + "/tokenizers/qwen2/";
  TempDir dir;
  auto j = tiny_config_json("Qwen2ForCausalLM", true);
  testing::write_text(dir.file("config.json"), j.dump());
  auto cfg = parse_hf_config(j.dump(), "cfg");
  REQUIRE(cfg.ok());
  testing::write_file(dir.file("model.safetensors"),
                      testing::safetensors_image(hf_tensors_for(*cfg)));
  auto bare = load_model(dir.path().string());
  REQUIRE_MESSAGE(bare.ok(), bare.status().to_string());
  CHECK_FALSE(bare->tokenizer.has_value());

  std::filesystem::copy_file(assets + "tokenizer.json", dir.file("tokenizer.json"));
  std::filesystem::copy_file(assets + "tokenizer_config.json", dir.file("tokenizer_config.json"));
  auto m = load_model(dir.path().string());
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  REQUIRE(m->tokenizer.has_value());
  CHECK(m->tokenizer->tokens.size() > 150000);
  CHECK_FALSE(m->tokenizer->chat_template.empty());  // from tokenizer_config.json
  // config.json stands for its folder.
  auto by_config = load_model(dir.file("config.json"));
  REQUIRE(by_config.ok());
  CHECK(by_config->tokenizer.has_value());

  // A tokenizer.json that does not load fails the model, naming the file.
  testing::write_text(dir.file("tokenizer.json"), "{\"model\": 7}");
  auto bad = load_model(dir.path().string());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("tokenizer.json") != std::string::npos);
}

}  // namespace
}  // namespace stemma
