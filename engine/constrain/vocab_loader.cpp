#include "engine/constrain/vocab_loader.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "engine/constrain/utf8.h"

namespace stemma::constrain {

namespace {

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to 256+n.
std::array<int32_t, 0x200> char_to_byte_table() {
  std::array<int32_t, 0x200> table;
  table.fill(-1);
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    if (printable) {
      table[b] = b;
    } else {
      table[256 + n] = b;
      ++n;
    }
  }
  return table;
}

bool is_eos_name(const std::string& s) {
  static const std::set<std::string> kNames = {
      "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>",
      "</s>",       "<|end|>",         "<eos>",         "<|eom_id|>"};
  return kNames.count(s) > 0;
}

Result<std::string> decode_sentencepiece_token(const std::string& token) {
  if (token.size() == 6 && token.rfind("<0x", 0) == 0 && token[5] == '>') {
    return std::string(1, static_cast<char>(std::stoi(token.substr(3, 2), nullptr, 16)));
  }
  std::string out;
  for (size_t i = 0; i < token.size();) {
    if (token.compare(i, 3, "\xe2\x96\x81") == 0) {  // "▁"
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(token[i++]);
    }
  }
  return out;
}

}  // namespace

Result<std::string> decode_byte_level_token(std::string_view token) {
  static const std::array<int32_t, 0x200> kTable = char_to_byte_table();
  std::vector<uint32_t> cps;
  if (!decode_utf8(token, &cps)) return InvalidArgument("token is not valid UTF-8");
  std::string out;
  for (uint32_t cp : cps) {
    if (cp >= kTable.size() || kTable[cp] < 0) {
      return InvalidArgument("character U+" + std::to_string(cp) + " is not a byte-level char");
    }
    out.push_back(static_cast<char>(kTable[cp]));
  }
  return out;
}

Result<Vocabulary> parse_vocabulary_from_tokenizer_json(std::string_view json_text) {
  using Json = nlohmann::json;
  Json doc;
  try {
    doc = Json::parse(json_text);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("tokenizer.json: not JSON: ") + e.what());
  }
  if (!doc.contains("model") || !doc["model"].contains("vocab") ||
      !doc["model"]["vocab"].is_object()) {
    return InvalidArgument("tokenizer.json: no model.vocab object (only BPE vocabularies)");
  }
  bool byte_level = false;
  for (const char* key : {"decoder", "pre_tokenizer"}) {
    if (doc.contains(key) && !doc[key].is_null()) {
      byte_level = byte_level || doc[key].dump().find("\"ByteLevel\"") != std::string::npos;
    }
  }
  const Json& vocab = doc["model"]["vocab"];
  int32_t size = 0;
  std::vector<std::pair<int32_t, std::string>> entries;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) {
      return InvalidArgument("tokenizer.json: vocab entry '" + it.key() + "' has no integer id");
    }
    int32_t id = it.value().get<int32_t>();
    if (id < 0 || id > 10'000'000) {
      return InvalidArgument("tokenizer.json: vocab id " + std::to_string(id) + " out of range");
    }
    entries.push_back({id, it.key()});
    size = std::max(size, id + 1);
  }
  std::vector<std::pair<int32_t, std::string>> added;
  std::vector<uint8_t> added_special;
  if (doc.contains("added_tokens") && doc["added_tokens"].is_array()) {
    for (const Json& a : doc["added_tokens"]) {
      if (!a.contains("id") || !a.contains("content") || !a["id"].is_number_integer() ||
          !a["content"].is_string()) {
        return InvalidArgument("tokenizer.json: an added_tokens entry lacks id/content");
      }
      int32_t id = a["id"].get<int32_t>();
      if (id < 0 || id > 10'000'000) {
        return InvalidArgument("tokenizer.json: added token id " + std::to_string(id));
      }
      added.push_back({id, a["content"].get<std::string>()});
      added_special.push_back(a.value("special", true) ? 1 : 0);
      size = std::max(size, id + 1);
    }
  }
  Vocabulary out;
  out.tokens.assign(size, std::string());
  out.special.assign(size, 0);
  for (const auto& [id, text] : entries) {
    auto bytes = byte_level ? decode_byte_level_token(text) : decode_sentencepiece_token(text);
    if (!bytes.ok()) {
      return InvalidArgument("tokenizer.json: token " + std::to_string(id) + ": " +
                             bytes.status().message());
    }
    out.tokens[id] = std::move(*bytes);
  }
  for (size_t i = 0; i < added.size(); ++i) {
    const auto& [id, text] = added[i];
    out.tokens[id] = text;  // added tokens are stored as plain text
    if (added_special[i]) out.special[id] = 1;
    if (is_eos_name(text)) out.eos_ids.push_back(id);
  }
  // Ids with no entry (gaps) stay empty: never allowed.
  return out;
}

Result<Vocabulary> vocabulary_from_tokenizer_spec(const TokenizerSpec& spec) {
  const bool byte_level = spec.model == "gpt2";
  if (!byte_level && spec.model != "llama") {
    return Unsupported("vocabulary: tokenizer model '" + spec.model + "'");
  }
  const size_t n = spec.tokens.size();
  if (!spec.token_types.empty() && spec.token_types.size() != n) {
    return InvalidArgument("vocabulary: token_types has " +
                           std::to_string(spec.token_types.size()) + " entries for " +
                           std::to_string(n) + " tokens");
  }
  Vocabulary out;
  out.tokens.resize(n);
  out.special.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    int32_t type = spec.token_types.empty() ? 1 : spec.token_types[i];
    const std::string& t = spec.tokens[i];
    if (type == 3 || type == 5 || type == 2) {  // control, unused, unknown: never generated
      out.special[i] = 1;
      out.tokens[i] = t;
      continue;
    }
    if (type == 4) {  // user-defined: plain text
      out.tokens[i] = t;
      continue;
    }
    auto bytes = byte_level ? decode_byte_level_token(t) : decode_sentencepiece_token(t);
    if (!bytes.ok()) {
      return InvalidArgument("vocabulary: token " + std::to_string(i) + ": " +
                             bytes.status().message());
    }
    out.tokens[i] = std::move(*bytes);
  }
  if (spec.eos_id >= 0 && static_cast<size_t>(spec.eos_id) < n) {
    out.eos_ids.push_back(spec.eos_id);
    out.special[spec.eos_id] = 0;
  }
  for (size_t i = 0; i < n; ++i) {
    if (out.special[i] && is_eos_name(spec.tokens[i]) &&
        std::find(out.eos_ids.begin(), out.eos_ids.end(), static_cast<int32_t>(i)) ==
            out.eos_ids.end()) {
      out.eos_ids.push_back(static_cast<int32_t>(i));
    }
  }
  return out;
}

Result<Vocabulary> load_vocabulary_from_tokenizer_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("tokenizer.json not found: " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = parse_vocabulary_from_tokenizer_json(ss.str());
  if (!v.ok()) return v.status().with_context(path);
  return v;
}

}  // namespace stemma::constrain
