#include "engine/model/tensor_names.h"

#include <cstdlib>

namespace stemma {
namespace {

struct NamePair {
  const char* hf;    // suffix after "model.layers.N."
  const char* gguf;  // suffix after "blk.N."
};
constexpr NamePair kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.gate_proj.bias", "ffn_gate.bias"},
    {"mlp.up_proj.bias", "ffn_up.bias"},
    {"mlp.down_proj.bias", "ffn_down.bias"},
};
constexpr NamePair kGlobalNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

// Splits "<prefix><digits>.<rest>"; false when it does not have that form.
bool split_layer(const std::string& name, const std::string& prefix, std::string* idx,
                 std::string* rest) {
  if (!starts_with(name, prefix)) return false;
  size_t i = prefix.size(), j = i;
  while (j < name.size() && name[j] >= '0' && name[j] <= '9') ++j;
  if (j == i || j - i > 6 || j >= name.size() || name[j] != '.') return false;
  *idx = name.substr(i, j - i);
  *rest = name.substr(j + 1);
  return true;
}

}  // namespace

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  std::vector<ExpectedTensor> out;
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  auto mat = [&](std::string name, int64_t rows, int64_t cols) {
    out.push_back({std::move(name), {rows, cols}, true, cols});
  };
  auto vec = [&](std::string name, int64_t n) { out.push_back({std::move(name), {n}, false, 0}); };
  mat("token_embd.weight", c.vocab_size, h);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    std::string b = "blk." + std::to_string(i) + ".";
    vec(b + "attn_norm.weight", h);
    mat(b + "attn_q.weight", q, h);
    mat(b + "attn_k.weight", kv, h);
    mat(b + "attn_v.weight", kv, h);
    if (c.attn_qkv_bias) {
      vec(b + "attn_q.bias", q);
      vec(b + "attn_k.bias", kv);
      vec(b + "attn_v.bias", kv);
    }
    if (c.qk_norm) {
      vec(b + "attn_q_norm.weight", c.head_dim);
      vec(b + "attn_k_norm.weight", c.head_dim);
    }
    mat(b + "attn_output.weight", h, q);
    if (c.attn_output_bias) vec(b + "attn_output.bias", h);
    vec(b + "ffn_norm.weight", h);
    mat(b + "ffn_gate.weight", c.intermediate_size, h);
    mat(b + "ffn_up.weight", c.intermediate_size, h);
    mat(b + "ffn_down.weight", h, c.intermediate_size);
    if (c.mlp_bias) {
      vec(b + "ffn_gate.bias", c.intermediate_size);
      vec(b + "ffn_up.bias", c.intermediate_size);
      vec(b + "ffn_down.bias", h);
    }
  }
  vec("output_norm.weight", h);
  if (!c.tie_embeddings) mat("output.weight", c.vocab_size, h);
  return out;
}

std::optional<std::string> hf_to_gguf_name(const std::string& hf) {
  for (const auto& p : kGlobalNames) {
    if (hf == p.hf) return std::string(p.gguf);
  }
  std::string idx, rest;
  if (!split_layer(hf, "model.layers.", &idx, &rest)) return std::nullopt;
  for (const auto& p : kLayerNames) {
    if (rest == p.hf) return "blk." + idx + "." + p.gguf;
  }
  return std::nullopt;
}

std::optional<std::string> gguf_to_hf_name(const std::string& g) {
  for (const auto& p : kGlobalNames) {
    if (g == p.gguf) return std::string(p.hf);
  }
  std::string idx, rest;
  if (!split_layer(g, "blk.", &idx, &rest)) return std::nullopt;
  for (const auto& p : kLayerNames) {
    if (rest == p.gguf) return "model.layers." + idx + "." + p.hf;
  }
  return std::nullopt;
}

Status validate_config(const ModelConfig& c, const std::string& what) {
  auto bad = [&](const std::string& why) { return InvalidArgument(what + ": " + why); };
  constexpr int64_t kMaxDim = int64_t{1} << 24;  // far above any real model, far below overflow
  struct F {
    const char* name;
    int64_t v;
  } fields[] = {{"vocab size", c.vocab_size},
                {"hidden size", c.hidden_size},
                {"intermediate size", c.intermediate_size},
                {"layer count", c.num_layers},
                {"head count", c.num_heads},
                {"kv head count", c.num_kv_heads},
                {"head dim", c.head_dim}};
  for (const auto& f : fields) {
    if (f.v <= 0 || f.v > kMaxDim) {
      return bad(std::string(f.name) + " " + std::to_string(f.v) + " is out of range");
    }
  }
  if (c.num_layers > 4096)
    return bad("layer count " + std::to_string(c.num_layers) + " is out of range");
  if (c.num_heads % c.num_kv_heads != 0) {
    return bad("head count " + std::to_string(c.num_heads) +
               " is not a multiple of kv head count " + std::to_string(c.num_kv_heads));
  }
  if (c.head_dim % 2 != 0)
    return bad("head dim " + std::to_string(c.head_dim) + " is odd (rope needs pairs)");
  if (c.max_position < 0) return bad("negative context length");
  if (!(c.rms_norm_eps > 0)) return bad("rms_norm_eps must be > 0");
  if (!(c.rope_theta > 0)) return bad("rope theta must be > 0");
  return OkStatus();
}

Status validate_tensors(const ModelConfig& c, const std::map<std::string, TensorView>& tensors,
                        const std::string& what) {
  std::string problems;
  int count = 0;
  auto note = [&](const std::string& p) {
    if (count < 8) problems += (count ? "; " : "") + p;
    ++count;
  };
  for (const auto& e : expected_tensors(c)) {
    auto it = tensors.find(e.name);
    if (it == tensors.end()) {
      note("missing tensor '" + e.name + "' " + shape_to_string(e.shape));
      continue;
    }
    const TensorView& t = it->second;
    if (t.shape != e.shape) {
      note("tensor '" + e.name + "' has shape " + shape_to_string(t.shape) + ", expected " +
           shape_to_string(e.shape));
      continue;
    }
    size_t want = 0;
    if (!dtype_row_bytes(t.dtype, t.cols(), &want)) {
      note("tensor '" + e.name + "' of type " + dtype_name(t.dtype) + " has rows of " +
           std::to_string(t.cols()) + " elements, not a whole number of blocks");
      continue;
    }
    if (want * static_cast<size_t>(t.rows()) != t.nbytes) {
      note("tensor '" + e.name + "' holds " + std::to_string(t.nbytes) + " bytes, expected " +
           std::to_string(want * static_cast<size_t>(t.rows())));
    }
  }
  if (count == 0) return OkStatus();
  if (count > 8) problems += "; and " + std::to_string(count - 8) + " more";
  return CorruptData(what + ": " + problems);
}

}  // namespace stemma
