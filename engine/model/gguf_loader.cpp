#include "engine/model/gguf_loader.h"

#include <cmath>
#include <cstring>

#include "engine/model/gguf_reader.h"
#include "engine/model/quant/quant.h"
#include "engine/model/rope.h"
#include "engine/model/tensor_names.h"

namespace stemma {
namespace {

// Optional metadata: the fallback when absent, an error when present with a wrong type.
template <typename T, typename Get>
Status optional_key(const GgufFile& g, const std::string& key, T* out, Get get) {
  if (!g.has(key)) return OkStatus();
  auto r = (g.*get)(key);
  if (!r.ok()) return r.status();
  *out = static_cast<T>(*r);
  return OkStatus();
}

Status required_int(const GgufFile& g, const std::string& key, int64_t* out) {
  auto r = g.get_int(key);
  if (!r.ok()) return r.status();
  *out = *r;
  return OkStatus();
}

}  // namespace

Result<ModelConfig> gguf_model_config(const GgufFile& g) {
  ModelConfig c;
  STEMMA_ASSIGN_OR_RETURN(std::string arch, g.get_string("general.architecture"));
  c.arch_name = arch;
  if (arch == "llama" || arch == "mistral") {
    c.arch = Architecture::kLlama;
    c.rope_interleaved = true;  // llama.cpp's converter permutes Q/K rows for these
  } else if (arch == "qwen2") {
    c.arch = Architecture::kQwen2;
    c.attn_qkv_bias = true;
  } else if (arch == "qwen3") {
    c.arch = Architecture::kQwen3;
    c.qk_norm = true;
  } else {
    return Unsupported(g.path() + ": architecture '" + arch +
                       "' (supported: llama, mistral, qwen2, qwen3)");
  }
  const std::string p = arch + ".";
  STEMMA_RETURN_IF_ERROR(required_int(g, p + "embedding_length", &c.hidden_size));
  STEMMA_RETURN_IF_ERROR(required_int(g, p + "block_count", &c.num_layers));
  STEMMA_RETURN_IF_ERROR(required_int(g, p + "feed_forward_length", &c.intermediate_size));
  STEMMA_RETURN_IF_ERROR(required_int(g, p + "attention.head_count", &c.num_heads));
  c.num_kv_heads = c.num_heads;
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, p + "attention.head_count_kv", &c.num_kv_heads, &GgufFile::get_int));
  c.max_position = 2048;
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, p + "context_length", &c.max_position, &GgufFile::get_int));
  if (c.num_heads <= 0)
    return InvalidArgument(g.path() + ": " + p + "attention.head_count must be > 0");
  c.head_dim = c.hidden_size / c.num_heads;
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, p + "attention.key_length", &c.head_dim, &GgufFile::get_int));
  if (g.has(p + "attention.value_length")) {
    STEMMA_ASSIGN_OR_RETURN(int64_t vl, g.get_int(p + "attention.value_length"));
    if (vl != c.head_dim) return Unsupported(g.path() + ": value length differs from key length");
  }
  if (g.has(p + "rope.dimension_count")) {
    STEMMA_ASSIGN_OR_RETURN(int64_t rd, g.get_int(p + "rope.dimension_count"));
    if (rd != c.head_dim) {
      return Unsupported(g.path() + ": partial rotary embedding (rope.dimension_count " +
                         std::to_string(rd) + " != head dim " + std::to_string(c.head_dim) + ")");
    }
  }
  c.rms_norm_eps = 1e-5f;
  STEMMA_RETURN_IF_ERROR(optional_key(g, p + "attention.layer_norm_rms_epsilon", &c.rms_norm_eps,
                                      &GgufFile::get_float));
  c.rope_theta = 10000.0f;
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, p + "rope.freq_base", &c.rope_theta, &GgufFile::get_float));

  // Rope scaling: metadata (linear), the old scale_linear key, or llama3's rope_freqs tensor.
  std::string scaling = "none";
  STEMMA_RETURN_IF_ERROR(optional_key(g, p + "rope.scaling.type", &scaling, &GgufFile::get_string));
  float factor = 1.0f;
  STEMMA_RETURN_IF_ERROR(optional_key(g, p + "rope.scaling.factor", &factor, &GgufFile::get_float));
  if (g.has(p + "rope.scale_linear")) {
    STEMMA_RETURN_IF_ERROR(optional_key(g, p + "rope.scale_linear", &factor, &GgufFile::get_float));
    if (scaling == "none") scaling = "linear";
  }
  if (scaling == "linear") {
    if (!(factor > 0)) return InvalidArgument(g.path() + ": rope scaling factor must be > 0");
    if (factor != 1.0f) {
      c.rope_scaling.type = RopeScaling::Type::kLinear;
      c.rope_scaling.factor = factor;
    }
  } else if (scaling == "yarn") {
    // llama.cpp's yarn: cos/sin scaled by attn_factor * (1 + 0.1 ln factor), correction dims
    // rounded (HF's truncate), betas 32 / 1 unless given.
    if (!(factor > 1)) return InvalidArgument(g.path() + ": yarn rope scaling factor must be > 1");
    RopeScaling& y = c.rope_scaling;
    y.type = RopeScaling::Type::kYarn;
    y.factor = factor;
    y.original_max_position = 0;
    float attn_factor = 1.0f;
    STEMMA_RETURN_IF_ERROR(
        optional_key(g, p + "rope.scaling.attn_factor", &attn_factor, &GgufFile::get_float));
    STEMMA_RETURN_IF_ERROR(
        optional_key(g, p + "rope.scaling.yarn_beta_fast", &y.beta_fast, &GgufFile::get_float));
    STEMMA_RETURN_IF_ERROR(
        optional_key(g, p + "rope.scaling.yarn_beta_slow", &y.beta_slow, &GgufFile::get_float));
    if (!(attn_factor > 0) || !(y.beta_fast > 0) || !(y.beta_slow > 0)) {
      return InvalidArgument(g.path() + ": yarn attn_factor and betas must be > 0");
    }
    y.attention_factor = attn_factor * static_cast<float>(0.1 * std::log(factor) + 1.0);
  } else if (scaling != "none") {
    return Unsupported(g.path() + ": rope scaling type '" + scaling +
                       "' (supported: none, linear, yarn, llama3 as rope_freqs.weight)");
  }
  STEMMA_RETURN_IF_ERROR(optional_key(g, p + "rope.scaling.original_context_length",
                                      &c.rope_scaling.original_max_position, &GgufFile::get_int));
  if (c.rope_scaling.type == RopeScaling::Type::kYarn && c.rope_scaling.original_max_position <= 0)
    c.rope_scaling.original_max_position = c.max_position;
  c.rope_freq_factors = g.find_tensor("rope_freqs.weight") != nullptr;

  // Vocabulary: the embedding's rows (the logits width), else the token list.
  if (const TensorView* emb = g.find_tensor("token_embd.weight"); emb && emb->shape.size() == 2) {
    c.vocab_size = emb->shape[0];
  } else if (const GgufValue* toks = g.find("tokenizer.ggml.tokens")) {
    if (const auto* a = std::get_if<GgufArray>(&toks->v))
      c.vocab_size = static_cast<int64_t>(a->items.size());
  }
  c.tie_embeddings = g.find_tensor("output.weight") == nullptr;
  if (c.arch != Architecture::kQwen2)
    c.attn_qkv_bias = g.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.attn_output_bias = g.find_tensor("blk.0.attn_output.bias") != nullptr;
  c.mlp_bias = c.arch == Architecture::kLlama && g.find_tensor("blk.0.ffn_gate.bias") != nullptr;
  int64_t bos = -1, eos = -1;
  STEMMA_RETURN_IF_ERROR(optional_key(g, "tokenizer.ggml.bos_token_id", &bos, &GgufFile::get_int));
  STEMMA_RETURN_IF_ERROR(optional_key(g, "tokenizer.ggml.eos_token_id", &eos, &GgufFile::get_int));
  c.bos_token_id = static_cast<int32_t>(bos);
  if (eos >= 0) c.eos_token_ids.push_back(static_cast<int32_t>(eos));
  // End-of-turn tokens also stop generation (Llama 3 instruct's <|eot_id|>, ...).
  for (const char* k : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    int64_t id = -1;
    STEMMA_RETURN_IF_ERROR(optional_key(g, k, &id, &GgufFile::get_int));
    if (id >= 0 && id != eos) c.eos_token_ids.push_back(static_cast<int32_t>(id));
  }
  STEMMA_RETURN_IF_ERROR(validate_config(c, g.path()));
  return c;
}

Result<std::optional<TokenizerSpec>> gguf_tokenizer_spec(const GgufFile& g) {
  if (!g.has("tokenizer.ggml.model")) return std::optional<TokenizerSpec>();
  TokenizerSpec t;
  STEMMA_ASSIGN_OR_RETURN(t.model, g.get_string("tokenizer.ggml.model"));
  STEMMA_RETURN_IF_ERROR(optional_key(g, "tokenizer.ggml.pre", &t.pre, &GgufFile::get_string));
  STEMMA_ASSIGN_OR_RETURN(t.tokens, g.get_string_array("tokenizer.ggml.tokens"));
  const size_t n = t.tokens.size();
  if (g.has("tokenizer.ggml.scores")) {
    STEMMA_ASSIGN_OR_RETURN(t.scores, g.get_float_array("tokenizer.ggml.scores"));
    if (t.scores.size() != n)
      return CorruptData(g.path() + ": tokenizer.ggml.scores has " +
                         std::to_string(t.scores.size()) + " entries for " + std::to_string(n) +
                         " tokens");
  }
  if (g.has("tokenizer.ggml.token_type")) {
    STEMMA_ASSIGN_OR_RETURN(std::vector<int64_t> types,
                            g.get_int_array("tokenizer.ggml.token_type"));
    if (types.size() != n)
      return CorruptData(g.path() + ": tokenizer.ggml.token_type has " +
                         std::to_string(types.size()) + " entries for " + std::to_string(n) +
                         " tokens");
    t.token_types.reserve(n);
    for (int64_t v : types) t.token_types.push_back(static_cast<int32_t>(v));
  }
  if (g.has("tokenizer.ggml.merges")) {
    STEMMA_ASSIGN_OR_RETURN(t.merges, g.get_string_array("tokenizer.ggml.merges"));
  }
  struct IdKey {
    const char* key;
    int32_t* out;
  } ids[] = {{"tokenizer.ggml.bos_token_id", &t.bos_id},
             {"tokenizer.ggml.eos_token_id", &t.eos_id},
             {"tokenizer.ggml.unknown_token_id", &t.unk_id},
             {"tokenizer.ggml.padding_token_id", &t.pad_id}};
  for (const auto& k : ids) {
    int64_t v = -1;
    STEMMA_RETURN_IF_ERROR(optional_key(g, k.key, &v, &GgufFile::get_int));
    if (v < -1 || v >= static_cast<int64_t>(n)) {
      return CorruptData(g.path() + ": " + k.key + " " + std::to_string(v) + " is outside the " +
                         std::to_string(n) + "-token vocabulary");
    }
    *k.out = static_cast<int32_t>(v);
  }
  // llama.cpp's defaults when the keys are absent: SentencePiece models add BOS and a space prefix.
  const bool spm = t.model == "llama";
  t.add_bos = spm;
  t.add_space_prefix = spm;
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, "tokenizer.ggml.add_bos_token", &t.add_bos, &GgufFile::get_bool));
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, "tokenizer.ggml.add_eos_token", &t.add_eos, &GgufFile::get_bool));
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, "tokenizer.ggml.add_space_prefix", &t.add_space_prefix, &GgufFile::get_bool));
  STEMMA_RETURN_IF_ERROR(
      optional_key(g, "tokenizer.chat_template", &t.chat_template, &GgufFile::get_string));
  return std::optional<TokenizerSpec>(std::move(t));
}

Result<LoadedModel> load_gguf_model(const std::string& path) {
  STEMMA_ASSIGN_OR_RETURN(GgufFile g, GgufFile::open(path));
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, gguf_model_config(g));
  STEMMA_ASSIGN_OR_RETURN(std::optional<TokenizerSpec> tok, gguf_tokenizer_spec(g));
  LoadedModel m;
  for (const auto& t : g.tensors()) {
    if (static_cast<uint32_t>(t.dtype) == 6) {  // Q5_0: repack to Q8_0 (exact, 34 vs 22 bytes)
      const int64_t blocks = t.num_elements() / 32;
      auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(blocks) *
                                                        sizeof(quant::BlockQ8_0));
      std::vector<quant::BlockQ5_0> src(static_cast<size_t>(blocks));
      std::memcpy(src.data(), t.data, t.nbytes);  // copy: file data need not be 2-byte aligned
      quant::repack_q5_0_to_q8_0(src.data(), reinterpret_cast<quant::BlockQ8_0*>(buf->data()),
                                 blocks * 32);
      TensorView v = t;
      v.dtype = DType::kQ8_0;
      v.data = buf->data();
      v.nbytes = buf->size();
      m.tensors[t.name] = v;
      m.owned.push_back(std::move(buf));
      continue;
    }
    m.tensors[t.name] = t;
  }
  STEMMA_RETURN_IF_ERROR(validate_tensors(config, m.tensors, path));
  if (config.rope_freq_factors) {
    const TensorView* rf = m.find("rope_freqs.weight");
    if (rf->dtype == DType::kF32 && rf->num_elements() == config.head_dim / 2) {
      // Also describe the table as llama3 parameters, for code that reads only the config.
      std::vector<float> factors(static_cast<size_t>(rf->num_elements()));
      std::memcpy(factors.data(), rf->data, factors.size() * 4);
      int64_t old_ctx = g.has(config.arch_name + ".rope.scaling.original_context_length")
                            ? config.rope_scaling.original_max_position
                            : 8192;
      if (config.rope_scaling.type == RopeScaling::Type::kNone) {
        if (auto r = llama3_scaling_from_factors(config, factors, old_ctx))
          config.rope_scaling = *r;
      }
    } else {
      return CorruptData(path + ": tensor 'rope_freqs.weight' must be f32 [" +
                         std::to_string(config.head_dim / 2) + "]");
    }
  }
  m.config = std::move(config);
  m.tokenizer = std::move(tok);
  m.source_path = path;
  m.source_format = "gguf";
  m.files.push_back(g.file());
  return m;
}

}  // namespace stemma
