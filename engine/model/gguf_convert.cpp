#include "engine/model/gguf_convert.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/model/quant/quant.h"
#include "engine/model/rope.h"
#include "engine/model/tensor_names.h"

namespace stemma {
namespace {

// llama.cpp's general.file_type values for the mostly-<type> files we write.
uint32_t file_type_of(DType t) {
  switch (t) {
    case DType::kF32:
      return 0;
    case DType::kF16:
      return 1;
    case DType::kQ4_0:
      return 2;
    case DType::kQ8_0:
      return 7;
    case DType::kQ4_K:
      return 15;
    case DType::kQ6_K:
      return 18;
    case DType::kBF16:
      return 32;
  }
  return 0;
}

const char* gguf_arch_name(const ModelConfig& c) {
  switch (c.arch) {
    case Architecture::kLlama:
      return "llama";  // Mistral too, as llama.cpp writes it
    case Architecture::kQwen2:
      return "qwen2";
    case Architecture::kQwen3:
      return "qwen3";
  }
  return "llama";
}

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

int64_t permuted_qk_row(int64_t r, int64_t head_dim) {
  // Within a head, output (j, i) for j < head_dim/2, i in {0, 1} holds input (i, j).
  int64_t h = r / head_dim, w = r % head_dim, half = head_dim / 2;
  return h * head_dim + (w % 2) * half + w / 2;
}

void write_config_metadata(const ModelConfig& c, GgufWriter* w) {
  const std::string a = gguf_arch_name(c);
  w->set_string("general.architecture", a);
  const std::string p = a + ".";
  w->set_u32(p + "vocab_size", static_cast<uint32_t>(c.vocab_size));
  w->set_u32(p + "context_length", static_cast<uint32_t>(c.max_position));
  w->set_u32(p + "embedding_length", static_cast<uint32_t>(c.hidden_size));
  w->set_u32(p + "block_count", static_cast<uint32_t>(c.num_layers));
  w->set_u32(p + "feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w->set_u32(p + "attention.head_count", static_cast<uint32_t>(c.num_heads));
  w->set_u32(p + "attention.head_count_kv", static_cast<uint32_t>(c.num_kv_heads));
  w->set_u32(p + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w->set_u32(p + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  w->set_u32(p + "rope.dimension_count", static_cast<uint32_t>(c.head_dim));
  w->set_f32(p + "attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  w->set_f32(p + "rope.freq_base", c.rope_theta);
  if (c.rope_scaling.type == RopeScaling::Type::kLinear) {
    w->set_string(p + "rope.scaling.type", "linear");
    w->set_f32(p + "rope.scaling.factor", c.rope_scaling.factor);
  }
  if (c.rope_scaling.type == RopeScaling::Type::kYarn) {
    // llama.cpp multiplies its attn_factor by 1 + 0.1 ln factor; store what reproduces ours.
    const RopeScaling& y = c.rope_scaling;
    w->set_string(p + "rope.scaling.type", "yarn");
    w->set_f32(p + "rope.scaling.factor", y.factor);
    w->set_u32(p + "rope.scaling.original_context_length",
               static_cast<uint32_t>(y.original_max_position));
    w->set_f32(p + "rope.scaling.attn_factor",
               rope_attention_factor(c) / static_cast<float>(0.1 * std::log(y.factor) + 1.0));
    w->set_f32(p + "rope.scaling.yarn_beta_fast", y.beta_fast);
    w->set_f32(p + "rope.scaling.yarn_beta_slow", y.beta_slow);
  }
  // llama3 scaling goes into the rope_freqs.weight tensor (see make_gguf_writer); its original
  // context lets readers recover the parameters.
  if (c.rope_scaling.type == RopeScaling::Type::kLlama3) {
    w->set_u32(p + "rope.scaling.original_context_length",
               static_cast<uint32_t>(c.rope_scaling.original_max_position));
  }
}

void write_tokenizer_metadata(const TokenizerSpec& t, GgufWriter* w) {
  w->set_string("tokenizer.ggml.model", t.model);
  if (!t.pre.empty()) w->set_string("tokenizer.ggml.pre", t.pre);
  w->set("tokenizer.ggml.tokens", GgufValue::string_array(t.tokens));
  if (!t.scores.empty()) w->set("tokenizer.ggml.scores", GgufValue::f32_array(t.scores));
  if (!t.token_types.empty())
    w->set("tokenizer.ggml.token_type", GgufValue::i32_array(t.token_types));
  if (!t.merges.empty()) w->set("tokenizer.ggml.merges", GgufValue::string_array(t.merges));
  if (t.bos_id >= 0) w->set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(t.bos_id));
  if (t.eos_id >= 0) w->set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(t.eos_id));
  if (t.unk_id >= 0) w->set_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(t.unk_id));
  if (t.pad_id >= 0) w->set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(t.pad_id));
  w->set_bool("tokenizer.ggml.add_bos_token", t.add_bos);
  w->set_bool("tokenizer.ggml.add_eos_token", t.add_eos);
  w->set_bool("tokenizer.ggml.add_space_prefix", t.add_space_prefix);
  if (!t.chat_template.empty()) w->set_string("tokenizer.chat_template", t.chat_template);
}

TokenizerSpec placeholder_tokenizer(int64_t vocab) {
  TokenizerSpec t;
  t.model = "llama";
  t.pre = "default";
  for (int64_t i = 0; i < vocab; ++i) {
    std::string piece;
    int32_t type = 1;
    if (i == 0) {
      piece = "<unk>", type = 2;
    } else if (i == 1) {
      piece = "<s>", type = 3;
    } else if (i == 2) {
      piece = "</s>", type = 3;
    } else if (i < 3 + 256) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "<0x%02X>", static_cast<unsigned>(i - 3));
      piece = buf, type = 6;
    } else {
      piece = "\xe2\x96\x81t" + std::to_string(i);
    }
    t.tokens.push_back(piece);
    t.scores.push_back(-static_cast<float>(i));
    t.token_types.push_back(type);
  }
  t.unk_id = 0;
  t.bos_id = 1;
  t.eos_id = 2;
  t.add_bos = false;
  return t;
}

Result<GgufWriter> make_gguf_writer(const LoadedModel& model, const ConvertOptions& opt) {
  const ModelConfig& c = model.config;
  STEMMA_RETURN_IF_ERROR(validate_config(c, "convert"));
  STEMMA_RETURN_IF_ERROR(validate_tensors(c, model.tensors, "convert"));
  if (c.rope_scaling.type == RopeScaling::Type::kYarn && !c.rope_scaling.truncate) {
    return Unsupported(
        "convert: yarn rope scaling with truncate = false (GGUF readers round the "
        "correction dims)");
  }
  GgufWriter w(opt.alignment);
  write_config_metadata(c, &w);
  w.set_string("general.name", opt.name.empty() ? c.arch_name : opt.name);
  w.set_u32("general.file_type", file_type_of(opt.type));
  w.set_u32("general.quantization_version", 2);
  if (opt.tokenizer)
    write_tokenizer_metadata(*opt.tokenizer, &w);
  else if (model.tokenizer)
    write_tokenizer_metadata(*model.tokenizer, &w);
  // Ids the tokenizer spec lacks but the config knows (HF config.json).
  if (c.bos_token_id >= 0 && !(opt.tokenizer || model.tokenizer)) {
    w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(c.bos_token_id));
  }
  if (!c.eos_token_ids.empty() && !(opt.tokenizer || model.tokenizer)) {
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(c.eos_token_ids[0]));
  }

  // Permute Q/K for llama unless the source already is in the interleaved layout.
  const bool permute = c.arch == Architecture::kLlama && !c.rope_interleaved;
  for (const auto& e : expected_tensors(c)) {
    const TensorView* src = model.find(e.name);
    const bool qk = ends_with(e.name, ".attn_q.weight") || ends_with(e.name, ".attn_k.weight") ||
                    ends_with(e.name, ".attn_q.bias") || ends_with(e.name, ".attn_k.bias");
    const bool do_permute = permute && qk;
    const DType out = e.is_matrix ? storable_type(opt.type, src->cols()) : DType::kF32;
    const int64_t head_dim = c.head_dim;
    auto fill = [src, out, do_permute, head_dim](uint8_t* dst, size_t nbytes) -> Status {
      const int64_t cols = src->cols(), rows = src->rows();
      if (rows == 0) return OkStatus();
      const size_t in_row = src->nbytes / static_cast<size_t>(rows);
      const size_t out_row = nbytes / static_cast<size_t>(rows);
      std::vector<float> buf(static_cast<size_t>(cols));
      // 1-D tensors (biases) permute elements: treat each element as a row of one.
      if (src->shape.size() == 1 && do_permute) {
        std::vector<float> all(static_cast<size_t>(cols));
        STEMMA_RETURN_IF_ERROR(quant::dequantize_row(src->dtype, src->data, all.data(), cols));
        for (int64_t i = 0; i < cols; ++i) buf[i] = all[permuted_qk_row(i, head_dim)];
        return quant::quantize_row(out, buf.data(), dst, cols);
      }
      for (int64_t r = 0; r < rows; ++r) {
        int64_t from = do_permute ? permuted_qk_row(r, head_dim) : r;
        if (src->dtype == out) {
          std::memcpy(dst + out_row * r, src->data + in_row * from, out_row);
          continue;
        }
        STEMMA_RETURN_IF_ERROR(
            quant::dequantize_row(src->dtype, src->data + in_row * from, buf.data(), cols));
        STEMMA_RETURN_IF_ERROR(quant::quantize_row(out, buf.data(), dst + out_row * r, cols));
      }
      return OkStatus();
    };
    STEMMA_RETURN_IF_ERROR(w.add_tensor(e.name, out, e.shape, fill));
  }
  // rope_freqs: carried over from GGUF, or computed from llama3 scaling (as llama.cpp does).
  if (const TensorView* rf = model.find("rope_freqs.weight"); rf && c.rope_freq_factors) {
    STEMMA_RETURN_IF_ERROR(
        w.add_tensor_bytes(rf->name, DType::kF32, rf->shape, rf->data, rf->nbytes));
  } else if (c.rope_scaling.type == RopeScaling::Type::kLlama3) {
    ModelConfig plain = c;
    plain.rope_scaling = RopeScaling{};
    plain.rope_freq_factors = false;
    STEMMA_ASSIGN_OR_RETURN(std::vector<float> base, rope_inv_freq(plain, nullptr));
    STEMMA_ASSIGN_OR_RETURN(std::vector<float> scaled, rope_inv_freq(c, nullptr));
    auto factors = std::make_shared<std::vector<float>>(base.size());
    for (size_t i = 0; i < base.size(); ++i) (*factors)[i] = base[i] / scaled[i];
    STEMMA_RETURN_IF_ERROR(w.add_tensor("rope_freqs.weight", DType::kF32,
                                        {static_cast<int64_t>(factors->size())},
                                        [factors](uint8_t* dst, size_t n) -> Status {
                                          std::memcpy(dst, factors->data(), n);
                                          return OkStatus();
                                        }));
  }
  return w;
}

Status convert_to_gguf(const LoadedModel& model, const std::string& out_path,
                       const ConvertOptions& options) {
  STEMMA_ASSIGN_OR_RETURN(GgufWriter w, make_gguf_writer(model, options));
  return w.write_file(out_path);
}

}  // namespace stemma
