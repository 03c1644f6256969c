// GGUF: writer -> reader round trips (metadata of every type, tensors, alignment), model
// conversion from HF folders (llama Q/K permutation, quantized types, llama3 rope factors),
// tokenizer metadata.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "engine/model/gguf_convert.h"
#include "engine/model/gguf_loader.h"
#include "engine/model/gguf_reader.h"
#include "engine/model/hf_config.h"
#include "engine/model/quant/quant.h"
#include "engine/model/rope.h"
#include "engine/model/tensor_names.h"
#include "tests/engine/model/test_files.h"

namespace stemma {
namespace {
using testing::StTensor;
using testing::TempDir;

GgufValue nested_array() {
  GgufArray inner1;
  inner1.elem_type = GgufType::kInt16;
  inner1.items = {GgufValue(int16_t{-3}), GgufValue(int16_t{7})};
  GgufArray inner2;
  inner2.elem_type = GgufType::kInt16;
  GgufArray outer;
  outer.elem_type = GgufType::kArray;
  outer.items = {GgufValue(inner1), GgufValue(inner2)};
  return GgufValue(outer);
}

TEST_CASE("GGUF writer -> reader keeps every metadata type and tensor byte") {
  for (uint64_t alignment : {32u, 64u}) {
    GgufWriter w(alignment);
    w.set("u8", GgufValue(uint8_t{200}));
    w.set("i8", GgufValue(int8_t{-100}));
    w.set("u16", GgufValue(uint16_t{60000}));
    w.set("i16", GgufValue(int16_t{-30000}));
    w.set("u32", GgufValue(uint32_t{4000000000u}));
    w.set("i32", GgufValue(int32_t{-2000000000}));
    w.set("f32", GgufValue(1.5f));
    w.set("bool", GgufValue(true));
    w.set("str", GgufValue(std::string("héllo\0x", 8)));
    w.set("u64", GgufValue(uint64_t{1} << 63));
    w.set("i64", GgufValue(int64_t{-(int64_t{1} << 62)}));
    w.set("f64", GgufValue(-2.25));
    w.set("strs", GgufValue::string_array({"a", "", "ccc"}));
    w.set("floats", GgufValue::f32_array({0.5f, -1.0f}));
    w.set("nested", nested_array());
    GgufArray empty;
    empty.elem_type = GgufType::kUint64;
    w.set("empty", GgufValue(empty));

    std::vector<float> a(3 * 64), b(256 * 2);
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.25f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::sin(static_cast<float>(i));
    std::vector<uint8_t> bq(2 * 210);
    for (int r = 0; r < 2; ++r)
      quant::quantize_row_q6_K(b.data() + 256 * r,
                               reinterpret_cast<quant::BlockQ6_K*>(bq.data() + 210 * r), 256);
    std::vector<uint8_t> c(7 * 2);  // odd size: forces padding before the next tensor
    for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(i * 37);
    REQUIRE(w.add_tensor_bytes("a", DType::kF32, {3, 64},
                               reinterpret_cast<const uint8_t*>(a.data()), a.size() * 4)
                .ok());
    REQUIRE(w.add_tensor_bytes("c", DType::kF16, {7}, c.data(), c.size()).ok());
    REQUIRE(w.add_tensor_bytes("b", DType::kQ6_K, {2, 256}, bq.data(), bq.size()).ok());
    CHECK_FALSE(w.add_tensor_bytes("a", DType::kF32, {1}, c.data(), 4).ok());  // duplicate
    CHECK_FALSE(
        w.add_tensor_bytes("bad", DType::kQ8_0, {33}, c.data(), 4).ok());  // not whole blocks

    auto bytes = w.write_bytes();
    REQUIRE(bytes.ok());
    auto g = GgufFile::parse(bytes->data(), bytes->size(), "mem");
    REQUIRE_MESSAGE(g.ok(), g.status().to_string());
    CHECK(g->version() == 3);
    CHECK(g->alignment() == alignment);
    CHECK(g->data_offset() % alignment == 0);
    // Every key written comes back equal, in order (general.alignment first when set).
    size_t k = alignment == 32 ? 0 : 1;
    REQUIRE(g->metadata().size() == 16 + k);
    CHECK(*g->get_uint("u8") == 200);
    CHECK(*g->get_int("i8") == -100);
    CHECK(*g->get_int("i64") == -(int64_t{1} << 62));
    CHECK(*g->get_uint("u64") == uint64_t{1} << 63);
    CHECK_FALSE(g->get_int("u64").ok());   // does not fit
    CHECK_FALSE(g->get_uint("i32").ok());  // negative
    CHECK(*g->get_float("f64") == -2.25);
    CHECK(*g->get_float("u16") == 60000.0);
    CHECK(*g->get_bool("bool"));
    CHECK(*g->get_string("str") == std::string("héllo\0x", 8));
    CHECK(*g->get_string_array("strs") == std::vector<std::string>{"a", "", "ccc"});
    CHECK(*g->get_float_array("floats") == std::vector<float>{0.5f, -1.0f});
    CHECK(*g->find("nested") == nested_array());
    CHECK(g->find("empty")->type() == GgufType::kArray);
    auto wrong = g->get_string("u32");
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.status().message().find("'u32' has type uint32") != std::string::npos);
    CHECK(g->get_string("nope").status().code() == StatusCode::kNotFound);

    REQUIRE(g->tensors().size() == 3);
    const TensorView* ta = g->find_tensor("a");
    const TensorView* tb = g->find_tensor("b");
    const TensorView* tc = g->find_tensor("c");
    REQUIRE((ta && tb && tc));
    CHECK(ta->shape == std::vector<int64_t>{3, 64});
    CHECK(tb->shape == std::vector<int64_t>{2, 256});
    CHECK(tb->dtype == DType::kQ6_K);
    CHECK(std::memcmp(ta->data, a.data(), a.size() * 4) == 0);
    CHECK(std::memcmp(tb->data, bq.data(), bq.size()) == 0);
    CHECK(std::memcmp(tc->data, c.data(), c.size()) == 0);
    for (size_t i = 0; i < 3; ++i) CHECK(g->tensor_offset(i) % alignment == 0);

    // And through a file + mmap.
    TempDir dir;
    REQUIRE(w.write_file(dir.file("x.gguf")).ok());
    auto f = GgufFile::open(dir.file("x.gguf"));
    REQUIRE(f.ok());
    CHECK(f->metadata() == g->metadata());
    CHECK(std::memcmp(f->find_tensor("b")->data, bq.data(), bq.size()) == 0);
  }
}

nlohmann::json tiny_config(const std::string& arch) {
  nlohmann::json j = {{"architectures", {arch}},
                      {"hidden_size", 256},
                      {"intermediate_size", 512},
                      {"num_hidden_layers", 2},
                      {"num_attention_heads", 4},
                      {"num_key_value_heads", 2},
                      {"vocab_size", 64},
                      {"max_position_embeddings", 4096},
                      {"rms_norm_eps", 1e-5},
                      {"rope_theta", 500000.0},
                      {"tie_word_embeddings", false},
                      {"bos_token_id", 1},
                      {"eos_token_id", 2}};
  return j;
}

// An HF folder with random F32 (or BF16) weights for `j`; returns its path holder.
void write_hf_folder(const TempDir& dir, const nlohmann::json& j,
                     const std::string& dtype = "F32") {
  testing::write_text(dir.file("config.json"), j.dump());
  auto cfg = parse_hf_config(j.dump(), "cfg");
  REQUIRE(cfg.ok());
  std::vector<StTensor> ts;
  uint32_t seed = 11;
  for (const auto& e : expected_tensors(*cfg)) {
    int64_t n = 1;
    for (auto d : e.shape) n *= d;
    auto bytes = testing::random_f32_bytes(n, seed++);
    if (dtype == "BF16") {
      std::vector<uint8_t> h(static_cast<size_t>(n) * 2);
      for (int64_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, bytes.data() + 4 * i, 4);
        uint16_t v = quant::fp32_to_bf16(f);
        std::memcpy(h.data() + 2 * i, &v, 2);
      }
      bytes = h;
    }
    ts.push_back({*gguf_to_hf_name(e.name), dtype, e.shape, bytes});
  }
  testing::write_file(dir.file("model.safetensors"), testing::safetensors_image(ts));
}

std::vector<float> row_f32(const TensorView& t, int64_t r) {
  std::vector<float> out(static_cast<size_t>(t.cols()));
  size_t rb = t.nbytes / static_cast<size_t>(t.rows());
  REQUIRE(quant::dequantize_row(t.dtype, t.data + rb * r, out.data(), t.cols()).ok());
  return out;
}

TEST_CASE("HF -> GGUF f32 -> load: same config, llama Q/K rows permuted as llama.cpp does") {
  for (const char* arch : {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"}) {
    CAPTURE(arch);
    TempDir dir;
    write_hf_folder(dir, tiny_config(arch));
    auto hf = load_model(dir.path().string());
    REQUIRE_MESSAGE(hf.ok(), hf.status().to_string());
    ConvertOptions opt;
    opt.type = DType::kF32;
    REQUIRE(convert_to_gguf(*hf, dir.file("m.gguf"), opt).ok());
    auto gg = load_model(dir.file("m.gguf"));
    REQUIRE_MESSAGE(gg.ok(), gg.status().to_string());
    const ModelConfig &a = hf->config, &b = gg->config;
    CHECK(b.arch == a.arch);
    CHECK(b.hidden_size == a.hidden_size);
    CHECK(b.num_layers == a.num_layers);
    CHECK(b.num_heads == a.num_heads);
    CHECK(b.num_kv_heads == a.num_kv_heads);
    CHECK(b.head_dim == a.head_dim);
    CHECK(b.intermediate_size == a.intermediate_size);
    CHECK(b.vocab_size == a.vocab_size);
    CHECK(b.max_position == a.max_position);
    CHECK(b.rope_theta == a.rope_theta);
    CHECK(b.rms_norm_eps == a.rms_norm_eps);
    CHECK(b.tie_embeddings == a.tie_embeddings);
    CHECK(b.attn_qkv_bias == a.attn_qkv_bias);
    CHECK(b.qk_norm == a.qk_norm);
    CHECK(b.bos_token_id == a.bos_token_id);
    CHECK(b.eos_token_ids == a.eos_token_ids);
    const bool llama = std::string(arch) == "LlamaForCausalLM";
    CHECK(b.rope_interleaved == llama);
    CHECK(gg->tensors.size() == hf->tensors.size());
    for (const auto& [name, t] : hf->tensors) {
      const TensorView* u = gg->find(name);
      REQUIRE(u != nullptr);
      CHECK(u->shape == t.shape);
      CHECK(u->dtype == DType::kF32);
      bool qk =
          name.find("attn_q.") != std::string::npos || name.find("attn_k.") != std::string::npos;
      if (!(llama && qk)) {
        CHECK(std::memcmp(u->data, t.data, t.nbytes) == 0);
        continue;
      }
      // numpy's reshape(n_head, 2, hd/2, ...).swapaxes(1, 2), spelled out as loops.
      const int64_t hd = a.head_dim, heads = t.shape[0] / hd,
                    cols = t.shape.size() == 2 ? t.shape[1] : 1;
      const float* src = reinterpret_cast<const float*>(t.data);
      const float* dst = reinterpret_cast<const float*>(u->data);
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t j = 0; j < hd / 2; ++j)
          for (int64_t i = 0; i < 2; ++i)
            for (int64_t col = 0; col < cols; ++col) {
              float want = src[((h * 2 + i) * (hd / 2) + j) * cols + col];
              float got = dst[((h * (hd / 2) + j) * 2 + i) * cols + col];
              if (want != got) FAIL_CHECK(name << " head " << h << " pair " << j << "," << i);
            }
    }
  }
}

TEST_CASE("HF bf16 -> GGUF quantized types decode close to the source") {
  TempDir dir;
  write_hf_folder(dir, tiny_config("Qwen2ForCausalLM"), "BF16");
  auto hf = load_model(dir.path().string());
  REQUIRE(hf.ok());
  CHECK(hf->find("blk.0.ffn_up.weight")->dtype == DType::kBF16);
  struct Case {
    DType t;
    double tol;
  } cases[] = {{DType::kF16, 1e-3},  {DType::kBF16, 1e-9}, {DType::kQ8_0, 0.01},
               {DType::kQ4_0, 0.15}, {DType::kQ4_K, 0.12}, {DType::kQ6_K, 0.03}};
  for (const auto& cs : cases) {
    CAPTURE(dtype_name(cs.t));
    ConvertOptions opt;
    opt.type = cs.t;
    std::string out = dir.file(std::string(dtype_name(cs.t)) + ".gguf");
    REQUIRE(convert_to_gguf(*hf, out, opt).ok());
    auto gg = load_model(out);
    REQUIRE_MESSAGE(gg.ok(), gg.status().to_string());
    CHECK(gg->find("blk.1.ffn_down.weight")->dtype == cs.t);
    CHECK(gg->find("token_embd.weight")->dtype == cs.t);
    CHECK(gg->find("blk.1.attn_q.bias")->dtype == DType::kF32);
    CHECK(gg->find("output_norm.weight")->dtype == DType::kF32);
    for (const char* name : {"blk.1.ffn_down.weight", "output.weight"}) {
      const TensorView& s = *hf->find(name);
      const TensorView& q = *gg->find(name);
      double e = 0, n = 0;
      for (int64_t r = 0; r < s.rows(); ++r) {
        auto x = row_f32(s, r), y = row_f32(q, r);
        for (size_t i = 0; i < x.size(); ++i) {
          e += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
          n += x[i] * static_cast<double>(x[i]);
        }
      }
      CHECK(std::sqrt(e / n) <= cs.tol);
    }
  }
}

TEST_CASE("llama3 rope scaling becomes rope_freqs.weight and gives the same frequencies") {
  TempDir dir;
  auto j = tiny_config("LlamaForCausalLM");
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 32.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  j["tie_word_embeddings"] = true;
  write_hf_folder(dir, j);
  auto hf = load_model(dir.path().string());
  REQUIRE(hf.ok());
  ConvertOptions opt;
  opt.type = DType::kQ8_0;
  REQUIRE(convert_to_gguf(*hf, dir.file("m.gguf"), opt).ok());
  auto gg = load_model(dir.file("m.gguf"));
  REQUIRE_MESSAGE(gg.ok(), gg.status().to_string());
  CHECK(gg->config.rope_freq_factors);
  // The loader also recovers the llama3 parameters from the table (for config-only readers).
  const RopeScaling& rs = gg->config.rope_scaling;
  CHECK(rs.type == RopeScaling::Type::kLlama3);
  CHECK(rs.factor == doctest::Approx(32.0).epsilon(1e-5));
  CHECK(rs.low_freq_factor == doctest::Approx(1.0).epsilon(1e-3));
  CHECK(rs.high_freq_factor == doctest::Approx(4.0).epsilon(1e-3));
  CHECK(rs.original_max_position == 8192);
  ModelConfig config_only = gg->config;
  config_only.rope_freq_factors = false;
  auto f_cfg = rope_inv_freq(config_only, nullptr);
  REQUIRE(f_cfg.ok());
  CHECK(gg->config.tie_embeddings);
  CHECK(gg->find("output.weight") == nullptr);
  auto f_hf = rope_inv_freq(hf->config, nullptr);
  auto f_gg = rope_inv_freq(gg->config, gg->find("rope_freqs.weight"));
  REQUIRE(f_hf.ok());
  REQUIRE(f_gg.ok());
  REQUIRE(f_hf->size() == f_gg->size());
  for (size_t i = 0; i < f_hf->size(); ++i)
    CHECK((*f_gg)[i] == doctest::Approx((*f_hf)[i]).epsilon(1e-6));
  // GGUF -> GGUF keeps the layout (no second permutation) and the factors.
  REQUIRE(convert_to_gguf(*gg, dir.file("m2.gguf"), opt).ok());
  auto g2 = load_model(dir.file("m2.gguf"));
  REQUIRE(g2.ok());
  for (const auto& [name, t] : gg->tensors) {
    const TensorView* u = g2->find(name);
    REQUIRE(u != nullptr);
    REQUIRE(u->nbytes == t.nbytes);
    CHECK(std::memcmp(u->data, t.data, t.nbytes) == 0);
  }
}

TEST_CASE("tokenizer spec -> tokenizer.ggml.* -> tokenizer spec") {
  TempDir dir;
  write_hf_folder(dir, tiny_config("Qwen3ForCausalLM"));
  auto hf = load_model(dir.path().string());
  REQUIRE(hf.ok());
  CHECK_FALSE(hf->tokenizer.has_value());
  TokenizerSpec t;
  t.model = "gpt2";
  t.pre = "qwen2";
  for (int i = 0; i < 64; ++i) t.tokens.push_back("tok" + std::to_string(i));
  t.token_types.assign(64, 1);
  t.token_types[2] = 3;
  t.merges = {"t o", "to k"};
  t.bos_id = 1;
  t.eos_id = 2;
  t.pad_id = 0;
  t.add_bos = false;
  t.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}";
  ConvertOptions opt;
  opt.type = DType::kF16;
  opt.tokenizer = t;
  REQUIRE(convert_to_gguf(*hf, dir.file("m.gguf"), opt).ok());
  auto gg = load_model(dir.file("m.gguf"));
  REQUIRE_MESSAGE(gg.ok(), gg.status().to_string());
  REQUIRE(gg->tokenizer.has_value());
  const TokenizerSpec& u = *gg->tokenizer;
  CHECK(u.model == t.model);
  CHECK(u.pre == t.pre);
  CHECK(u.tokens == t.tokens);
  CHECK(u.scores.empty());
  CHECK(u.token_types == t.token_types);
  CHECK(u.merges == t.merges);
  CHECK(u.bos_id == 1);
  CHECK(u.eos_id == 2);
  CHECK(u.unk_id == -1);
  CHECK(u.pad_id == 0);
  CHECK(u.add_bos == false);
  CHECK(u.add_space_prefix == false);
  CHECK(u.chat_template == t.chat_template);
  // SentencePiece-style spec with scores.
  TokenizerSpec s = t;
  s.model = "llama";
  s.merges.clear();
  s.scores.assign(64, -1.5f);
  s.add_bos = true;
  s.add_space_prefix = true;
  opt.tokenizer = s;
  REQUIRE(convert_to_gguf(*hf, dir.file("s.gguf"), opt).ok());
  auto gs = load_model(dir.file("s.gguf"));
  REQUIRE(gs.ok());
  CHECK(gs->tokenizer->scores == s.scores);
  CHECK(gs->tokenizer->add_bos);
  CHECK(gs->tokenizer->add_space_prefix);
}

TEST_CASE("Q5_0 tensors of downloads (llama.cpp's Q4_K_M fallback) load as exact Q8_0") {
  TempDir dir;
  write_hf_folder(dir, tiny_config("Qwen2ForCausalLM"));
  auto hf = load_model(dir.path().string());
  REQUIRE(hf.ok());
  GgufWriter w;
  write_config_metadata(hf->config, &w);
  std::vector<quant::BlockQ5_0> q5;
  const std::string q5_name = "blk.0.attn_q.weight";
  for (const auto& e : expected_tensors(hf->config)) {
    const TensorView& t = *hf->find(e.name);
    if (e.name == q5_name) {
      q5.resize(static_cast<size_t>(t.num_elements() / 32));
      quant::quantize_row_q5_0(reinterpret_cast<const float*>(t.data), q5.data(), t.num_elements());
      REQUIRE(w.add_tensor_raw(e.name, 6, static_cast<size_t>(t.cols() / 32 * 22), t.shape,
                               reinterpret_cast<const uint8_t*>(q5.data()), q5.size() * 22)
                  .ok());
    } else {
      REQUIRE(w.add_tensor_bytes(e.name, t.dtype, t.shape, t.data, t.nbytes).ok());
    }
  }
  REQUIRE(w.write_file(dir.file("q5.gguf")).ok());
  auto g = GgufFile::open(dir.file("q5.gguf"));
  REQUIRE(g.ok());
  CHECK(static_cast<uint32_t>(g->find_tensor(q5_name)->dtype) == 6);
  auto m = load_model(dir.file("q5.gguf"));
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  const TensorView* v = m->find(q5_name);
  REQUIRE(v != nullptr);
  CHECK(v->dtype == DType::kQ8_0);
  std::vector<float> want(static_cast<size_t>(v->num_elements()));
  quant::dequantize_row_q5_0(q5.data(), want.data(), v->num_elements());
  for (int64_t r = 0; r < v->rows(); ++r) {
    auto got = row_f32(*v, r);
    CHECK(std::memcmp(got.data(), want.data() + r * v->cols(), got.size() * 4) == 0);
  }
}

TEST_CASE("placeholder_tokenizer: unk/bos/eos, the 256 byte tokens, then placeholder pieces") {
  const TokenizerSpec t = placeholder_tokenizer(300);
  REQUIRE(t.tokens.size() == 300);
  REQUIRE(t.scores.size() == 300);
  REQUIRE(t.token_types.size() == 300);
  CHECK(t.model == "llama");
  CHECK(t.tokens[0] == "<unk>");
  CHECK(t.token_types[0] == 2);
  CHECK(t.tokens[1] == "<s>");
  CHECK(t.tokens[2] == "</s>");
  CHECK(t.token_types[2] == 3);
  CHECK(t.tokens[3] == "<0x00>");
  CHECK(t.tokens[3 + 0xAB] == "<0xAB>");
  CHECK(t.tokens[258] == "<0xFF>");
  CHECK(t.token_types[258] == 6);
  CHECK(t.tokens[259] == "\xe2\x96\x81t259");
  CHECK(t.token_types[259] == 1);
  // Every piece distinct (llama.cpp builds a piece -> id map).
  std::set<std::string> pieces(t.tokens.begin(), t.tokens.end());
  CHECK(pieces.size() == t.tokens.size());
  CHECK(t.unk_id == 0);
  CHECK(t.bos_id == 1);
  CHECK(t.eos_id == 2);

  // Written into a GGUF and read back unchanged.
  TempDir dir;
  nlohmann::json cfg = tiny_config("LlamaForCausalLM");
  cfg["vocab_size"] = 300;
  write_hf_folder(dir, cfg);
  auto hf = load_model(dir.path().string());
  REQUIRE(hf.ok());
  ConvertOptions opt;
  opt.type = DType::kQ8_0;
  opt.tokenizer = placeholder_tokenizer(hf->config.vocab_size);
  REQUIRE(convert_to_gguf(*hf, dir.file("p.gguf"), opt).ok());
  auto gg = load_model(dir.file("p.gguf"));
  REQUIRE_MESSAGE(gg.ok(), gg.status().to_string());
  REQUIRE(gg->tokenizer.has_value());
  CHECK(gg->tokenizer->tokens == t.tokens);
  CHECK(gg->tokenizer->scores == t.scores);
  CHECK(gg->tokenizer->token_types == t.token_types);
  CHECK(gg->tokenizer->unk_id == 0);
}

}  // namespace
}  // namespace stemma
