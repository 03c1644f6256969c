#include "engine/backend/cuda/cuda_weights.h"

#include <cstring>
#include <string>

#include "engine/model/quant/blocks.h"
#include "engine/model/quant/quant.h"
#include "engine/model/rope.h"

namespace stemma::cuda {
namespace {

using kernels::WeightFormat;

Result<WeightFormat> format_of(const TensorView& t) {
  switch (t.dtype) {
    case DType::kF32:
      return WeightFormat::kF32;
    case DType::kF16:
      return WeightFormat::kF16;
    case DType::kBF16:
      return WeightFormat::kBF16;
    case DType::kQ8_0:
      return WeightFormat::kQ8_0;
    case DType::kQ4_K:
      return WeightFormat::kQ4_K;
    case DType::kQ6_K:
      return WeightFormat::kQ6_K;
    default:
      return Unsupported(
          "the CUDA backend reads F32, F16, BF16, Q8_0, Q4_K and Q6_K weights; "
          "tensor '" +
          t.name + "' is " + dtype_name(t.dtype) + " (use the CPU backend, or convert the model)");
  }
}

// Host images of one matrix (or several stacked) in the GPU format.
struct HostImage {
  WeightFormat format = WeightFormat::kF32;
  std::vector<uint8_t> data, scales;
  int64_t rows = 0, cols = 0;
};

Status append(HostImage& img, const TensorView& t) {
  STEMMA_ASSIGN_OR_RETURN(WeightFormat f, format_of(t));
  if (img.rows == 0) {
    img.format = f;
    img.cols = t.cols();
  } else if (f != img.format || t.cols() != img.cols) {
    return Internal("fusing tensors of different formats");
  }
  const int64_t rows = t.rows();
  switch (f) {
    case WeightFormat::kQ8_0: {
      const auto* blocks = reinterpret_cast<const quant::BlockQ8_0*>(t.data);
      const int64_t n = rows * (t.cols() / 32);
      const size_t q0 = img.data.size(), s0 = img.scales.size();
      img.data.resize(q0 + static_cast<size_t>(n) * 32);
      img.scales.resize(s0 + static_cast<size_t>(n) * 2);
      for (int64_t b = 0; b < n; ++b) {
        std::memcpy(img.data.data() + q0 + b * 32, blocks[b].qs, 32);
        std::memcpy(img.scales.data() + s0 + b * 2, &blocks[b].d, 2);
      }
      break;
    }
    case WeightFormat::kQ6_K: {
      const int64_t n = rows * (t.cols() / 256);
      const size_t d0 = img.data.size();
      img.data.resize(d0 + static_cast<size_t>(n) * kernels::kQ6KBlockBytes, 0);
      for (int64_t b = 0; b < n; ++b)
        std::memcpy(img.data.data() + d0 + b * kernels::kQ6KBlockBytes, t.data + b * 210, 210);
      break;
    }
    default:
      img.data.insert(img.data.end(), t.data, t.data + t.nbytes);
      break;
  }
  img.rows += rows;
  return OkStatus();
}

Result<DeviceMatrix> upload(const HostImage& img, const std::string& what) {
  DeviceMatrix m;
  STEMMA_RETURN_IF_ERROR(m.data.upload(img.data.data(), img.data.size(), what));
  if (!img.scales.empty()) {
    STEMMA_RETURN_IF_ERROR(m.scales.upload(img.scales.data(), img.scales.size(), what));
  }
  m.view.format = img.format;
  m.view.data = m.data.data();
  m.view.scales = img.scales.empty() ? nullptr : m.scales.data();
  m.view.rows = img.rows;
  m.view.cols = img.cols;
  return m;
}

bool shape_ok(const HostImage& img) {
  switch (img.format) {
    case WeightFormat::kQ4_K:
    case WeightFormat::kQ6_K:
      return img.cols % 256 == 0;
    default:
      return img.cols % 32 == 0;
  }
}

// The matrices named, stacked in one matmul: fused when their formats agree.
Result<MatmulGroup> group(const LoadedModel& m, const std::vector<std::string>& names,
                          int64_t* max_dequant, size_t* bytes) {
  MatmulGroup g;
  std::vector<const TensorView*> views;
  bool same = true;
  for (const auto& n : names) {
    const TensorView* t = m.find(n);
    if (t == nullptr) return NotFound("CUDA backend: missing tensor '" + n + "'");
    if (!views.empty() && (t->dtype != views[0]->dtype || t->cols() != views[0]->cols()))
      same = false;
    views.push_back(t);
  }
  g.cols = views[0]->cols();
  auto add_part = [&](const std::vector<const TensorView*>& vs) -> Status {
    HostImage img;
    for (const TensorView* t : vs) STEMMA_RETURN_IF_ERROR(append(img, *t));
    if (!shape_ok(img)) {
      return Unsupported("CUDA backend: tensor '" + vs[0]->name + "' has rows of " +
                         std::to_string(img.cols) +
                         " values (a multiple of 32, 256 for "
                         "k-quants, is needed)");
    }
    STEMMA_ASSIGN_OR_RETURN(DeviceMatrix dm, upload(img, vs[0]->name));
    *max_dequant = std::max(*max_dequant, img.rows * img.cols);
    *bytes += img.data.size() + img.scales.size();
    g.column.push_back(g.width);
    g.width += img.rows;
    g.parts.push_back(std::move(dm));
    return OkStatus();
  };
  if (same) {
    STEMMA_RETURN_IF_ERROR(add_part(views));
  } else {
    for (const TensorView* t : views) STEMMA_RETURN_IF_ERROR(add_part({t}));
  }
  return g;
}

Result<std::vector<float>> f32_vector(const LoadedModel& m, const std::string& name, int64_t n) {
  const TensorView* t = m.find(name);
  if (t == nullptr) return NotFound("CUDA backend: missing tensor '" + name + "'");
  if (t->num_elements() != n) return CorruptData("tensor '" + name + "' has the wrong size");
  std::vector<float> out(static_cast<size_t>(n));
  STEMMA_RETURN_IF_ERROR(quant::dequantize_row(t->dtype, t->data, out.data(), n));
  return out;
}

Status upload_f32(DeviceBuffer& dst, const std::vector<float>& v, const std::string& what,
                  size_t* bytes) {
  *bytes += v.size() * 4;
  return dst.upload(v.data(), v.size() * 4, what);
}

Status upload_vector(const LoadedModel& m, const std::string& name, int64_t n, DeviceBuffer& dst,
                     size_t* bytes) {
  STEMMA_ASSIGN_OR_RETURN(std::vector<float> v, f32_vector(m, name, n));
  return upload_f32(dst, v, name, bytes);
}

// Concatenated vectors (fused biases).
Status upload_vectors(const LoadedModel& m,
                      const std::vector<std::pair<std::string, int64_t>>& parts, DeviceBuffer& dst,
                      size_t* bytes) {
  std::vector<float> all;
  for (const auto& [name, n] : parts) {
    STEMMA_ASSIGN_OR_RETURN(std::vector<float> v, f32_vector(m, name, n));
    all.insert(all.end(), v.begin(), v.end());
  }
  return upload_f32(dst, all, parts[0].first, bytes);
}

}  // namespace

Result<DeviceWeights> upload_weights(const LoadedModel& model) {
  const ModelConfig& c = model.config;
  DeviceWeights w;
  const int64_t h = c.hidden_size, hd = c.head_dim, ff = c.intermediate_size;
  const int64_t qd = c.num_heads * hd, kvd = c.num_kv_heads * hd;

  // The compute type follows the layer matrices: all fp32 -> fp32, all fp16 -> fp16, else bf16.
  bool all_f32 = true, all_f16 = true;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    for (const char* n :
         {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
      const TensorView* t = model.find("blk." + std::to_string(l) + "." + n + ".weight");
      if (t == nullptr) continue;
      all_f32 = all_f32 && t->dtype == DType::kF32;
      all_f16 = all_f16 && t->dtype == DType::kF16;
    }
  }
  w.compute = all_f32 ? kernels::ElemType::kF32
                      : (all_f16 ? kernels::ElemType::kF16 : kernels::ElemType::kBF16);

  const TensorView* emb = model.find("token_embd.weight");
  if (emb == nullptr) return NotFound("CUDA backend: missing tensor 'token_embd.weight'");
  {
    HostImage img;
    STEMMA_RETURN_IF_ERROR(append(img, *emb));
    if (!shape_ok(img))
      return Unsupported("CUDA backend: embedding rows of " + std::to_string(img.cols) + " values");
    STEMMA_ASSIGN_OR_RETURN(w.token_embd, upload(img, "token_embd.weight"));
    w.bytes += img.data.size() + img.scales.size();
  }
  const bool tied = c.tie_embeddings || model.find("output.weight") == nullptr;
  if (tied) {  // the output matmul reads the embedding table itself
    DeviceMatrix shared;
    shared.view = w.token_embd.view;
    w.output.parts.push_back(std::move(shared));
    w.output.column.push_back(0);
    w.output.width = w.token_embd.view.rows;
    w.output.cols = w.token_embd.view.cols;
  } else {
    STEMMA_ASSIGN_OR_RETURN(w.output,
                            group(model, {"output.weight"}, &w.max_dequant_elems, &w.bytes));
  }
  // The output matmul dequantizes in row chunks (its table can be large): not counted above.
  w.max_dequant_elems = 0;
  STEMMA_RETURN_IF_ERROR(upload_vector(model, "output_norm.weight", h, w.output_norm, &w.bytes));
  STEMMA_ASSIGN_OR_RETURN(
      std::vector<float> inv_freq,
      rope_inv_freq(c, c.rope_freq_factors ? model.find("rope_freqs.weight") : nullptr));
  STEMMA_RETURN_IF_ERROR(upload_f32(w.inv_freq, inv_freq, "rope table", &w.bytes));
  w.rope_attention_factor = rope_attention_factor(c);

  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    DeviceLayer& L = w.layers[static_cast<size_t>(l)];
    int64_t* md = &w.max_dequant_elems;
    STEMMA_ASSIGN_OR_RETURN(
        L.qkv, group(model, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"}, md,
                     &w.bytes));
    STEMMA_ASSIGN_OR_RETURN(L.o, group(model, {p + "attn_output.weight"}, md, &w.bytes));
    STEMMA_ASSIGN_OR_RETURN(
        L.gate_up, group(model, {p + "ffn_gate.weight", p + "ffn_up.weight"}, md, &w.bytes));
    STEMMA_ASSIGN_OR_RETURN(L.down, group(model, {p + "ffn_down.weight"}, md, &w.bytes));
    STEMMA_RETURN_IF_ERROR(upload_vector(model, p + "attn_norm.weight", h, L.attn_norm, &w.bytes));
    STEMMA_RETURN_IF_ERROR(upload_vector(model, p + "ffn_norm.weight", h, L.ffn_norm, &w.bytes));
    if (c.attn_qkv_bias) {
      STEMMA_RETURN_IF_ERROR(upload_vectors(
          model, {{p + "attn_q.bias", qd}, {p + "attn_k.bias", kvd}, {p + "attn_v.bias", kvd}},
          L.qkv_bias, &w.bytes));
    }
    if (c.attn_output_bias)
      STEMMA_RETURN_IF_ERROR(upload_vector(model, p + "attn_output.bias", h, L.o_bias, &w.bytes));
    if (c.mlp_bias) {
      STEMMA_RETURN_IF_ERROR(upload_vectors(
          model, {{p + "ffn_gate.bias", ff}, {p + "ffn_up.bias", ff}}, L.gate_up_bias, &w.bytes));
      STEMMA_RETURN_IF_ERROR(upload_vector(model, p + "ffn_down.bias", h, L.down_bias, &w.bytes));
    }
    if (c.qk_norm) {
      STEMMA_RETURN_IF_ERROR(
          upload_vector(model, p + "attn_q_norm.weight", hd, L.q_norm, &w.bytes));
      STEMMA_RETURN_IF_ERROR(
          upload_vector(model, p + "attn_k_norm.weight", hd, L.k_norm, &w.bytes));
    }
  }
  return w;
}

}  // namespace stemma::cuda
