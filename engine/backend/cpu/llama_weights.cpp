#include "engine/backend/cpu/llama_weights.h"

#include <string>

#include "engine/model/rope.h"

namespace stemma::cpu {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Result<const TensorView*> find(const LoadedModel& model, const std::string& name) {
  const TensorView* t = model.find(name);
  if (t == nullptr) return NotFound("model has no tensor " + name);
  return t;
}

Result<Matrix> matrix(const LoadedModel& model, const KernelTable& kernels, const std::string& name,
                      int64_t rows, int64_t cols, bool pack = true) {
  STEMMA_ASSIGN_OR_RETURN(const TensorView* t, find(model, name));
  if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols) {
    return InvalidArgument("tensor " + name + ": shape " + shape_text(t->shape) + ", expected [" +
                           std::to_string(rows) + ", " + std::to_string(cols) + "]");
  }
  return make_matrix(*t, kernels, pack);
}

Result<std::vector<float>> vector(const LoadedModel& model, const std::string& name, int64_t n) {
  STEMMA_ASSIGN_OR_RETURN(const TensorView* t, find(model, name));
  if (t->num_elements() != n || t->shape.empty() || t->shape.back() != n) {
    return InvalidArgument("tensor " + name + ": shape " + shape_text(t->shape) + ", expected [" +
                           std::to_string(n) + "]");
  }
  if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16) {
    return Unsupported("tensor " + name + ": vectors must be f32, f16 or bf16");
  }
  if (t->data == nullptr || t->nbytes < row_bytes(t->dtype, n)) {
    return CorruptData("tensor " + name + ": too few bytes for its shape");
  }
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t->dtype, t->data, n, out.data());
  return out;
}

}  // namespace

Result<LlamaWeights> bind_llama_weights(const LoadedModel& model, const KernelTable& kernels) {
  const ModelConfig& c = model.config;
  if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.num_kv_heads <= 0 ||
      c.head_dim <= 0 || c.vocab_size <= 0 || c.intermediate_size <= 0) {
    return InvalidArgument("model config has a non-positive size");
  }
  if (c.num_heads % c.num_kv_heads != 0 || c.head_dim % 2 != 0) {
    return InvalidArgument("model config: heads " + std::to_string(c.num_heads) +
                           " not a multiple of kv heads " + std::to_string(c.num_kv_heads) +
                           " or odd head_dim");
  }
  const int64_t h = c.hidden_size, qd = c.num_heads * c.head_dim, kvd = c.num_kv_heads * c.head_dim;
  LlamaWeights w;
  // The embedding's rows are only looked up: no packed copy (a tied output matrix gets its own).
  STEMMA_ASSIGN_OR_RETURN(w.token_embd,
                          matrix(model, kernels, "token_embd.weight", c.vocab_size, h, false));
  const bool tied = c.tie_embeddings || model.find("output.weight") == nullptr;
  STEMMA_ASSIGN_OR_RETURN(
      w.output,
      matrix(model, kernels, tied ? "token_embd.weight" : "output.weight", c.vocab_size, h));
  STEMMA_ASSIGN_OR_RETURN(w.output_norm, vector(model, "output_norm.weight", h));
  STEMMA_ASSIGN_OR_RETURN(
      w.rope_inv_freq,
      rope_inv_freq(c, c.rope_freq_factors ? model.find("rope_freqs.weight") : nullptr));
  w.rope_attention_factor = rope_attention_factor(c);
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LlamaLayerWeights& L = w.layers[static_cast<size_t>(i)];
    STEMMA_ASSIGN_OR_RETURN(L.q, matrix(model, kernels, p + "attn_q.weight", qd, h));
    STEMMA_ASSIGN_OR_RETURN(L.k, matrix(model, kernels, p + "attn_k.weight", kvd, h));
    STEMMA_ASSIGN_OR_RETURN(L.v, matrix(model, kernels, p + "attn_v.weight", kvd, h));
    STEMMA_ASSIGN_OR_RETURN(L.o, matrix(model, kernels, p + "attn_output.weight", h, qd));
    STEMMA_ASSIGN_OR_RETURN(L.gate,
                            matrix(model, kernels, p + "ffn_gate.weight", c.intermediate_size, h));
    STEMMA_ASSIGN_OR_RETURN(L.up,
                            matrix(model, kernels, p + "ffn_up.weight", c.intermediate_size, h));
    STEMMA_ASSIGN_OR_RETURN(L.down,
                            matrix(model, kernels, p + "ffn_down.weight", h, c.intermediate_size));
    STEMMA_ASSIGN_OR_RETURN(L.attn_norm, vector(model, p + "attn_norm.weight", h));
    STEMMA_ASSIGN_OR_RETURN(L.ffn_norm, vector(model, p + "ffn_norm.weight", h));
    if (c.attn_qkv_bias) {
      STEMMA_ASSIGN_OR_RETURN(L.q_bias, vector(model, p + "attn_q.bias", qd));
      STEMMA_ASSIGN_OR_RETURN(L.k_bias, vector(model, p + "attn_k.bias", kvd));
      STEMMA_ASSIGN_OR_RETURN(L.v_bias, vector(model, p + "attn_v.bias", kvd));
    }
    if (c.attn_output_bias) {
      STEMMA_ASSIGN_OR_RETURN(L.o_bias, vector(model, p + "attn_output.bias", h));
    }
    if (c.mlp_bias) {
      STEMMA_ASSIGN_OR_RETURN(L.gate_bias, vector(model, p + "ffn_gate.bias", c.intermediate_size));
      STEMMA_ASSIGN_OR_RETURN(L.up_bias, vector(model, p + "ffn_up.bias", c.intermediate_size));
      STEMMA_ASSIGN_OR_RETURN(L.down_bias, vector(model, p + "ffn_down.bias", h));
    }
    if (c.qk_norm) {
      STEMMA_ASSIGN_OR_RETURN(L.q_norm, vector(model, p + "attn_q_norm.weight", c.head_dim));
      STEMMA_ASSIGN_OR_RETURN(L.k_norm, vector(model, p + "attn_k_norm.weight", c.head_dim));
    }
  }
  return w;
}

}  // namespace stemma::cpu
