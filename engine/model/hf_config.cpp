#include "engine/model/hf_config.h"

#include <nlohmann/json.hpp>

namespace stemma {
namespace {

using nlohmann::json;

struct Reader {
  const json& j;
  const std::string& what;
  Status status;

  int64_t get_int(const char* key, int64_t fallback, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required && status.ok()) status = InvalidArgument(what + ": missing '" + key + "'");
      return fallback;
    }
    if (!it->is_number_integer()) {
      if (status.ok()) status = InvalidArgument(what + ": '" + key + "' is not an integer");
      return fallback;
    }
    return it->get<int64_t>();
  }
  double get_num(const json& obj, const char* key, double fallback) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_number()) {
      if (status.ok()) status = InvalidArgument(what + ": '" + key + "' is not a number");
      return fallback;
    }
    return it->get<double>();
  }
  bool get_bool(const char* key, bool fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) {
      if (status.ok()) status = InvalidArgument(what + ": '" + key + "' is not a boolean");
      return fallback;
    }
    return it->get<bool>();
  }
};

Status parse_rope_scaling(const json& rs, const std::string& what, ModelConfig* c) {
  Reader r{rs, what, OkStatus()};
  std::string type;
  if (auto it = rs.find("rope_type"); it != rs.end() && it->is_string())
    type = *it;
  else if (auto it2 = rs.find("type"); it2 != rs.end() && it2->is_string())
    type = *it2;
  if (type.empty() || type == "default") return OkStatus();
  if (type == "linear") {
    c->rope_scaling.type = RopeScaling::Type::kLinear;
    c->rope_scaling.factor = static_cast<float>(r.get_num(rs, "factor", 1.0));
  } else if (type == "llama3") {
    c->rope_scaling.type = RopeScaling::Type::kLlama3;
    c->rope_scaling.factor = static_cast<float>(r.get_num(rs, "factor", 8.0));
    c->rope_scaling.low_freq_factor = static_cast<float>(r.get_num(rs, "low_freq_factor", 1.0));
    c->rope_scaling.high_freq_factor = static_cast<float>(r.get_num(rs, "high_freq_factor", 4.0));
    c->rope_scaling.original_max_position =
        static_cast<int64_t>(r.get_num(rs, "original_max_position_embeddings", 8192));
    if (!(c->rope_scaling.high_freq_factor > c->rope_scaling.low_freq_factor)) {
      return InvalidArgument(what +
                             ": llama3 rope scaling needs high_freq_factor > low_freq_factor");
    }
  } else if (type == "yarn") {
    RopeScaling& y = c->rope_scaling;
    y.type = RopeScaling::Type::kYarn;
    y.factor = static_cast<float>(r.get_num(rs, "factor", 1.0));
    // Without original_max_position_embeddings HF takes max_position_embeddings (set below).
    y.original_max_position =
        static_cast<int64_t>(r.get_num(rs, "original_max_position_embeddings", 0));
    y.beta_fast = static_cast<float>(r.get_num(rs, "beta_fast", 32.0));
    y.beta_slow = static_cast<float>(r.get_num(rs, "beta_slow", 1.0));
    y.mscale = static_cast<float>(r.get_num(rs, "mscale", 0.0));
    y.mscale_all_dim = static_cast<float>(r.get_num(rs, "mscale_all_dim", 0.0));
    y.attention_factor = static_cast<float>(r.get_num(rs, "attention_factor", 0.0));
    if (auto it = rs.find("truncate"); it != rs.end() && !it->is_null()) {
      if (!it->is_boolean()) return InvalidArgument(what + ": yarn 'truncate' is not a boolean");
      y.truncate = it->get<bool>();
    }
    if (!(y.beta_fast > 0) || !(y.beta_slow > 0)) {
      return InvalidArgument(what + ": yarn rope scaling needs beta_fast and beta_slow > 0");
    }
    if (y.attention_factor < 0) {
      return InvalidArgument(what + ": yarn attention_factor must be > 0");
    }
  } else if (type == "dynamic" || type == "longrope") {
    // HF recomputes these frequencies from the length of each forward call (dynamic NTK past
    // the original context; longrope's short/long factor switch), so a key computed in one
    // call differs from the same key computed in a longer one: a prefix cache cannot serve them.
    return Unsupported(what + ": rope scaling type '" + type +
                       "' (its frequencies change with the sequence length of each call, which a "
                       "prefix cache cannot reproduce; supported: linear, llama3, yarn)");
  } else {
    return Unsupported(what + ": rope scaling type '" + type +
                       "' (supported: linear, llama3, yarn)");
  }
  if (!r.status.ok()) return r.status;
  if (!(c->rope_scaling.factor > 0))
    return InvalidArgument(what + ": rope scaling factor must be > 0");
  return OkStatus();
}

Result<ModelConfig> parse(const json& j, const std::string& what) {
  if (!j.is_object()) return InvalidArgument(what + ": not a JSON object");
  ModelConfig c;
  std::string arch;
  if (auto it = j.find("architectures");
      it != j.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
    arch = (*it)[0].get<std::string>();
  }
  if (arch == "LlamaForCausalLM") {
    c.arch = Architecture::kLlama;
    c.arch_name = "llama";
  } else if (arch == "MistralForCausalLM") {
    c.arch = Architecture::kLlama;
    c.arch_name = "mistral";
  } else if (arch == "Qwen2ForCausalLM") {
    c.arch = Architecture::kQwen2;
    c.arch_name = "qwen2";
    c.attn_qkv_bias = true;
  } else if (arch == "Qwen3ForCausalLM") {
    c.arch = Architecture::kQwen3;
    c.arch_name = "qwen3";
    c.qk_norm = true;
  } else {
    return Unsupported(what + ": architecture '" + (arch.empty() ? "(none)" : arch) +
                       "' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, "
                       "Qwen3ForCausalLM)");
  }
  Reader r{j, what, OkStatus()};
  c.vocab_size = r.get_int("vocab_size", 0, true);
  c.hidden_size = r.get_int("hidden_size", 0, true);
  c.intermediate_size = r.get_int("intermediate_size", 0, true);
  c.num_layers = r.get_int("num_hidden_layers", 0, true);
  c.num_heads = r.get_int("num_attention_heads", 0, true);
  c.num_kv_heads = r.get_int("num_key_value_heads", c.num_heads, false);
  c.max_position = r.get_int("max_position_embeddings", 2048, false);
  if (!r.status.ok()) return r.status;
  if (c.num_heads <= 0) return InvalidArgument(what + ": num_attention_heads must be > 0");
  int64_t default_head_dim = c.hidden_size / c.num_heads;
  c.head_dim = r.get_int("head_dim", default_head_dim, false);
  c.rms_norm_eps = static_cast<float>(r.get_num(j, "rms_norm_eps", 1e-6));
  // transformers >= 5 nests rope settings in "rope_parameters"; older configs use top-level keys.
  const json* rope_params = nullptr;
  if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object()) rope_params = &*it;
  double theta = r.get_num(j, "rope_theta", 10000.0);
  if (rope_params) theta = r.get_num(*rope_params, "rope_theta", theta);
  c.rope_theta = static_cast<float>(theta);
  double partial = r.get_num(j, "partial_rotary_factor", 1.0);
  if (rope_params) partial = r.get_num(*rope_params, "partial_rotary_factor", partial);
  if (partial != 1.0) {
    return Unsupported(what + ": partial_rotary_factor " + std::to_string(partial) +
                       " (only full rotary embeddings are supported)");
  }
  c.tie_embeddings = r.get_bool("tie_word_embeddings", false);
  bool attention_bias = r.get_bool("attention_bias", false);
  if (attention_bias && c.arch != Architecture::kQwen2) {
    c.attn_qkv_bias = true;
    c.attn_output_bias = true;
  }
  c.mlp_bias = r.get_bool("mlp_bias", false);
  if (c.mlp_bias && c.arch != Architecture::kLlama) {
    return Unsupported(what + ": mlp_bias = true for " + arch + " (supported for Llama/Mistral)");
  }
  if (!r.status.ok()) return r.status;
  if (auto it = j.find("rope_scaling"); it != j.end() && it->is_object()) {
    STEMMA_RETURN_IF_ERROR(parse_rope_scaling(*it, what, &c));
  } else if (rope_params) {
    STEMMA_RETURN_IF_ERROR(parse_rope_scaling(*rope_params, what, &c));
  }
  if (auto it = j.find("bos_token_id"); it != j.end() && it->is_number_integer()) {
    c.bos_token_id = it->get<int32_t>();
  }
  if (auto it = j.find("eos_token_id"); it != j.end()) {
    if (it->is_number_integer()) {
      c.eos_token_ids.push_back(it->get<int32_t>());
    } else if (it->is_array()) {
      for (const auto& e : *it) {
        if (!e.is_number_integer())
          return InvalidArgument(what + ": eos_token_id list holds a non-integer");
        c.eos_token_ids.push_back(e.get<int32_t>());
      }
    }
  }
  if (c.rope_scaling.type == RopeScaling::Type::kYarn && c.rope_scaling.original_max_position <= 0)
    c.rope_scaling.original_max_position = c.max_position;
  c.rope_interleaved = false;  // HF checkpoints rotate halves
  return c;
}

}  // namespace

Status validate_config(const ModelConfig& c, const std::string& what);

Result<ModelConfig> parse_hf_config(const std::string& json_text, const std::string& what) {
  try {
    json j = json::parse(json_text, nullptr, false);
    if (j.is_discarded()) return InvalidArgument(what + ": not valid JSON");
    auto c = parse(j, what);
    if (!c.ok()) return c;
    STEMMA_RETURN_IF_ERROR(validate_config(*c, what));
    return c;
  } catch (const std::exception& e) {
    return InvalidArgument(what + ": " + e.what());
  }
}

}  // namespace stemma
