#include "engine/tokenizer/hf_tokenizer_json.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/tokenizer/pre_tokenizer.h"

namespace stemma {
namespace {

using nlohmann::json;

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// tokenizer_config.json writes a token either as a string or as {"content": ...}.
std::string token_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) {
    return j["content"].get<std::string>();
  }
  return "";
}

// Collects the pre-tokenizers of a (possibly nested) Sequence.
void flatten(const json& j, const char* list_key, std::vector<json>* out) {
  if (j.is_null()) return;
  if (j.value("type", "") == "Sequence" && j.contains(list_key)) {
    for (const auto& p : j[list_key]) flatten(p, list_key, out);
  } else {
    out->push_back(j);
  }
}

Status apply_normalizers(const json& normalizer, TokenizerSpec* spec) {
  std::vector<json> parts;
  flatten(normalizer, "normalizers", &parts);
  for (const auto& n : parts) {
    const std::string type = n.value("type", "");
    if (type == "NFC") {
      spec->normalizer = "nfc";
    } else if (type == "Prepend" && n.value("prepend", "") == "\xE2\x96\x81") {
      spec->add_space_prefix = true;
    } else if (type == "Replace" && n.contains("pattern") && n["pattern"].is_object() &&
               n["pattern"].value("String", "") == " " &&
               n.value("content", "") == "\xE2\x96\x81") {
      // Spaces to "▁": what the SentencePiece path always does.
    } else {
      return Unsupported("tokenizer.json: normalizer '" + type + "' (" + n.dump() + ")");
    }
  }
  return OkStatus();
}

}  // namespace

Result<TokenizerSpec> parse_hf_tokenizer(const std::string& tokenizer_json,
                                         const std::string& config_json) {
  try {
    const json tj = json::parse(tokenizer_json);
    const json cfg = config_json.empty() ? json::object() : json::parse(config_json);
    TokenizerSpec spec;
    const json& model = tj.at("model");
    const std::string model_type = model.value("type", "");
    if (model_type != "BPE") {
      return Unsupported("tokenizer.json: model type '" + model_type + "' (only BPE is supported)");
    }
    // Byte-level or SentencePiece: the pre-tokenizer (or decoder) says ByteLevel for the former.
    std::vector<json> pres;
    flatten(tj.value("pre_tokenizer", json()), "pretokenizers", &pres);
    bool byte_level = false;
    for (const auto& p : pres) {
      const std::string type = p.value("type", "");
      if (type == "ByteLevel") {
        byte_level = true;
        if (p.value("use_regex", true)) spec.pre = "gpt2";
        if (p.value("add_prefix_space", false)) {
          return Unsupported("tokenizer.json: ByteLevel pre-tokenizer with add_prefix_space");
        }
      } else if (type == "Split") {
        if (!p.contains("pattern") || !p["pattern"].contains("Regex") ||
            p.value("behavior", "") != "Isolated" || p.value("invert", false)) {
          return Unsupported("tokenizer.json: Split pre-tokenizer " + p.dump() +
                             " (only an Isolated regex split is supported)");
        }
        spec.pre_regex = p["pattern"]["Regex"].get<std::string>();
      } else if (type == "Metaspace") {
        spec.add_space_prefix =
            p.value("prepend_scheme", "always") != "never" && p.value("add_prefix_space", true);
      } else {
        return Unsupported("tokenizer.json: pre-tokenizer '" + type + "'");
      }
    }
    if (!byte_level && tj.contains("decoder") && tj["decoder"].is_object() &&
        tj["decoder"].value("type", "") == "ByteLevel") {
      byte_level = true;
    }
    spec.model = byte_level ? "gpt2" : "llama";
    if (!spec.pre_regex.empty()) {
      for (const char* name : {"llama-bpe", "qwen2", "gpt2"}) {
        if (pre_tokenizer_regex_for(name) == spec.pre_regex) {
          spec.pre = name;
          spec.pre_regex.clear();
          break;
        }
      }
      if (!spec.pre_regex.empty()) spec.pre = "custom";
    }
    if (tj.contains("normalizer") && !tj["normalizer"].is_null()) {
      STEMMA_RETURN_IF_ERROR(apply_normalizers(tj["normalizer"], &spec));
    }
    if (spec.normalizer.empty()) spec.normalizer = "none";
    if (model.contains("ignore_merges") && model["ignore_merges"].is_boolean()) {
      spec.ignore_merges = model["ignore_merges"].get<bool>() ? 1 : 0;
    } else {
      spec.ignore_merges = 0;
    }

    // Vocabulary and added tokens, by id.
    const json& vocab = model.at("vocab");
    int64_t max_id = -1;
    for (const auto& [tok, id] : vocab.items())
      max_id = std::max<int64_t>(max_id, id.get<int64_t>());
    const json added = tj.value("added_tokens", json::array());
    for (const auto& a : added) max_id = std::max<int64_t>(max_id, a.at("id").get<int64_t>());
    if (max_id < 0) return InvalidArgument("tokenizer.json: the vocabulary is empty");
    if (max_id > (1 << 24))
      return CorruptData("tokenizer.json: token id " + std::to_string(max_id));
    spec.tokens.assign(max_id + 1, std::string());
    spec.token_types.assign(max_id + 1, 5);  // unused until a token claims the id
    for (const auto& [tok, id] : vocab.items()) {
      const int64_t i = id.get<int64_t>();
      if (i < 0) return CorruptData("tokenizer.json: token '" + tok + "' has a negative id");
      spec.tokens[i] = tok;
      const bool byte_token =
          !byte_level && tok.size() == 6 && tok.rfind("<0x", 0) == 0 && tok[5] == '>';
      spec.token_types[i] = byte_token ? 6 : 1;
    }
    for (const auto& a : added) {
      const int64_t i = a.at("id").get<int64_t>();
      spec.tokens[i] = a.at("content").get<std::string>();
      spec.token_types[i] = a.value("special", false) ? 3 : 4;
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      const std::string unk = model["unk_token"].get<std::string>();
      for (size_t i = 0; i < spec.tokens.size(); ++i) {
        if (spec.tokens[i] == unk) spec.unk_id = static_cast<int32_t>(i);
      }
    }
    for (const auto& m : model.value("merges", json::array())) {
      if (m.is_string()) {
        spec.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2) {
        spec.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        return CorruptData("tokenizer.json: merge " + std::to_string(spec.merges.size()) +
                           " is neither \"a b\" nor [a, b]");
      }
    }

    // BOS/EOS: ids from tokenizer_config's names; whether encode adds them from the
    // post-processor's template (what HF's encode(add_special_tokens=True) does).
    auto find_id = [&](const std::string& text) -> int32_t {
      if (text.empty()) return -1;
      for (size_t i = 0; i < spec.tokens.size(); ++i) {
        if (spec.tokens[i] == text) return static_cast<int32_t>(i);
      }
      return -1;
    };
    spec.bos_id = find_id(token_text(cfg.value("bos_token", json())));
    spec.eos_id = find_id(token_text(cfg.value("eos_token", json())));
    spec.pad_id = find_id(token_text(cfg.value("pad_token", json())));
    std::vector<json> posts;
    flatten(tj.value("post_processor", json()), "processors", &posts);
    for (const auto& p : posts) {
      if (p.value("type", "") != "TemplateProcessing" || !p.contains("single")) continue;
      const json& single = p["single"];
      if (!single.empty() && single.front().contains("SpecialToken")) {
        spec.add_bos = true;
        const int32_t id = find_id(single.front()["SpecialToken"].value("id", ""));
        if (id >= 0) spec.bos_id = id;
      }
      if (single.size() > 1 && single.back().contains("SpecialToken")) {
        spec.add_eos = true;
        const int32_t id = find_id(single.back()["SpecialToken"].value("id", ""));
        if (id >= 0) spec.eos_id = id;
      }
    }

    const json tmpl = cfg.value("chat_template", json());
    if (tmpl.is_string()) {
      spec.chat_template = tmpl.get<std::string>();
    } else if (tmpl.is_array()) {
      for (const auto& t : tmpl) {
        if (t.value("name", "") == "default") spec.chat_template = t.value("template", "");
      }
    }
    return spec;
  } catch (const std::exception& e) {
    return CorruptData(std::string("tokenizer.json: ") + e.what());
  }
}

Result<TokenizerSpec> load_hf_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path file = path;
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "tokenizer.json";
  if (!fs::exists(file, ec)) return NotFound("no tokenizer.json at " + file.string());
  STEMMA_ASSIGN_OR_RETURN(std::string tokenizer_json, read_file(file));
  std::string config_json;
  const fs::path config = file.parent_path() / "tokenizer_config.json";
  if (fs::exists(config, ec)) {
    STEMMA_ASSIGN_OR_RETURN(config_json, read_file(config));
  }
  auto spec = parse_hf_tokenizer(tokenizer_json, config_json);
  if (!spec.ok()) return spec.status().with_context(file.string());
  return spec;
}

}  // namespace stemma
