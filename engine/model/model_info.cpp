#include "engine/model/model_info.h"

#include "engine/model/tensor_names.h"

namespace stemma {
namespace {

struct TensorRow {
  DType dtype;
  int64_t elems;
  uint64_t bytes;
};

const char* rope_scaling_name(RopeScaling::Type t) {
  switch (t) {
    case RopeScaling::Type::kNone:
      return "none";
    case RopeScaling::Type::kLinear:
      return "linear";
    case RopeScaling::Type::kLlama3:
      return "llama3";
    case RopeScaling::Type::kYarn:
      return "yarn";
  }
  return "none";
}

nlohmann::json info(const ModelConfig& c, const std::vector<TensorRow>& rows,
                    const LoadedModel* m) {
  nlohmann::json j;
  j["architecture"] = c.arch_name;
  j["sizes"] = {{"layers", c.num_layers}, {"hidden", c.hidden_size},
                {"heads", c.num_heads},   {"kv_heads", c.num_kv_heads},
                {"head_dim", c.head_dim}, {"intermediate", c.intermediate_size},
                {"vocab", c.vocab_size},  {"context", c.max_position}};
  nlohmann::json types = nlohmann::json::object();
  int64_t params = 0;
  uint64_t bytes = 0;
  for (const auto& r : rows) {
    std::string n = dtype_name(r.dtype);
    types[n] = types.value(n, 0) + 1;
    params += r.elems;
    bytes += r.bytes;
  }
  j["tensor_types"] = types;
  j["tensor_count"] = rows.size();
  j["parameter_count"] = params;
  j["weight_bytes"] = bytes;
  nlohmann::json rope = {{"theta", c.rope_theta},
                         {"interleaved", c.rope_interleaved},
                         {"scaling", rope_scaling_name(c.rope_scaling.type)},
                         {"freq_factors_tensor", c.rope_freq_factors}};
  if (c.rope_scaling.type != RopeScaling::Type::kNone) rope["factor"] = c.rope_scaling.factor;
  if (c.rope_scaling.type == RopeScaling::Type::kLlama3) {
    rope["low_freq_factor"] = c.rope_scaling.low_freq_factor;
    rope["high_freq_factor"] = c.rope_scaling.high_freq_factor;
    rope["original_max_position"] = c.rope_scaling.original_max_position;
  }
  j["rope"] = rope;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["tie_embeddings"] = c.tie_embeddings;
  j["attn_qkv_bias"] = c.attn_qkv_bias;
  j["qk_norm"] = c.qk_norm;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_ids"] = c.eos_token_ids;
  j["has_tokenizer"] = m != nullptr && m->tokenizer.has_value();
  if (m && m->tokenizer) {
    const TokenizerSpec& t = *m->tokenizer;
    j["tokenizer"] = {{"model", t.model},          {"pre", t.pre},
                      {"tokens", t.tokens.size()}, {"merges", t.merges.size()},
                      {"bos_id", t.bos_id},        {"eos_id", t.eos_id},
                      {"add_bos", t.add_bos},      {"has_chat_template", !t.chat_template.empty()}};
  }
  if (m) {
    j["source_format"] = m->source_format;
    j["source_path"] = m->source_path;
  }
  return j;
}

}  // namespace

nlohmann::json model_info_json(const LoadedModel& m) {
  std::vector<TensorRow> rows;
  for (const auto& [name, t] : m.tensors) rows.push_back({t.dtype, t.num_elements(), t.nbytes});
  return info(m.config, rows, &m);
}

nlohmann::json dummy_model_info_json(const ModelConfig& c, DType weight_type) {
  std::vector<TensorRow> rows;
  for (const auto& e : expected_tensors(c)) {
    DType t = e.is_matrix ? storable_type(weight_type, e.shape.back()) : DType::kF32;
    int64_t n = 1;
    for (auto d : e.shape) n *= d;
    size_t row = 0;
    (void)dtype_row_bytes(t, e.shape.back(), &row);
    rows.push_back({t, n, static_cast<uint64_t>(row) * static_cast<uint64_t>(n / e.shape.back())});
  }
  nlohmann::json j = info(c, rows, nullptr);
  j["source_format"] = "dummy";
  return j;
}

}  // namespace stemma
