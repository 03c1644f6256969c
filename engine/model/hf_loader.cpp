#include "engine/model/hf_loader.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/common/read_file.h"
#include "engine/model/hf_config.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor_names.h"
#include "engine/tokenizer/hf_tokenizer_json.h"

namespace stemma {
namespace fs = std::filesystem;
namespace {

Result<std::string> read_text(const fs::path& p) {
  return read_file_bounded(p.string());
}

// The shard files of the folder, from the index when there is one.
Result<std::vector<fs::path>> shard_files(const fs::path& dir) {
  std::error_code ec;
  fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index, ec)) {
    STEMMA_ASSIGN_OR_RETURN(std::string text, read_text(index));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return CorruptData(index.string() + ": not valid JSON");
    auto wm = j.find("weight_map");
    if (wm == j.end() || !wm->is_object()) {
      return CorruptData(index.string() + ": missing 'weight_map' object");
    }
    std::set<std::string> names;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it->is_string())
        return CorruptData(index.string() + ": weight_map value for '" + it.key() +
                           "' is not a string");
      std::string f = it->get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f.find("..") != std::string::npos) {
        return CorruptData(index.string() + ": shard name '" + f + "' is not a plain file name");
      }
      names.insert(f);
    }
    std::vector<fs::path> out;
    for (const auto& n : names) out.push_back(dir / n);
    return out;
  }
  if (fs::exists(dir / "model.safetensors", ec))
    return std::vector<fs::path>{dir / "model.safetensors"};
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".safetensors") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) return NotFound(dir.string() + ": no *.safetensors files");
  return out;
}

// generation_config.json's eos ids are the ones HF generate() stops on (Llama 3 instruct lists
// <|eot_id|> there, not in config.json): add them.
Status merge_generation_config(const fs::path& dir, ModelConfig* config) {
  std::error_code ec;
  fs::path p = dir / "generation_config.json";
  if (!fs::exists(p, ec)) return OkStatus();
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_text(p));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return CorruptData(p.string() + ": not valid JSON");
  auto it = j.find("eos_token_id");
  if (it == j.end()) return OkStatus();
  std::vector<int32_t> ids;
  if (it->is_number_integer()) ids.push_back(it->get<int32_t>());
  if (it->is_array()) {
    for (const auto& e : *it) {
      if (e.is_number_integer()) ids.push_back(e.get<int32_t>());
    }
  }
  for (int32_t id : ids) {
    if (std::find(config->eos_token_ids.begin(), config->eos_token_ids.end(), id) ==
        config->eos_token_ids.end()) {
      config->eos_token_ids.push_back(id);
    }
  }
  return OkStatus();
}

}  // namespace

Result<LoadedModel> load_hf_folder(const std::string& dir_str) {
  fs::path dir(dir_str);
  fs::path cfg_path = dir / "config.json";
  STEMMA_ASSIGN_OR_RETURN(std::string cfg_text, read_text(cfg_path));
  STEMMA_ASSIGN_OR_RETURN(ModelConfig config, parse_hf_config(cfg_text, cfg_path.string()));
  STEMMA_ASSIGN_OR_RETURN(std::vector<fs::path> shards, shard_files(dir));
  STEMMA_RETURN_IF_ERROR(merge_generation_config(dir, &config));

  LoadedModel m;
  m.source_path = dir_str;
  m.source_format = "safetensors";
  std::map<std::string, std::string> origin;  // GGUF name -> shard, to name duplicates
  for (const auto& shard : shards) {
    STEMMA_ASSIGN_OR_RETURN(SafetensorsFile f, open_safetensors(shard.string()));
    for (auto& t : f.tensors) {
      if (t.name.size() >= 19 && t.name.ends_with("rotary_emb.inv_freq")) continue;  // recomputed
      auto g = hf_to_gguf_name(t.name);
      if (!g) {
        return Unsupported(shard.string() + ": tensor '" + t.name + "' is not part of a " +
                           config.arch_name + " model we know");
      }
      if (auto it = origin.find(*g); it != origin.end()) {
        return CorruptData("tensor '" + t.name + "' appears in both " + it->second + " and " +
                           shard.string());
      }
      origin[*g] = shard.string();
      t.name = *g;
      m.tensors[*g] = t;
    }
    m.files.push_back(f.file);
  }
  if (config.tie_embeddings) m.tensors.erase("output.weight");  // HF ties it to the embedding
  STEMMA_RETURN_IF_ERROR(validate_tensors(config, m.tensors, dir_str));
  // The tokenizer, when the folder ships one (tokenizer.json, with tokenizer_config.json beside
  // it for the chat template and special tokens). A tokenizer.json that does not load is an
  // error, as bad tokenizer metadata in a GGUF file is.
  std::error_code ec;
  if (fs::exists(dir / "tokenizer.json", ec)) {
    auto spec = load_hf_tokenizer(dir_str);
    if (!spec.ok()) return spec.status().with_context((dir / "tokenizer.json").string());
    m.tokenizer = std::move(spec).value();
  }
  m.config = std::move(config);
  return m;
}

}  // namespace stemma
