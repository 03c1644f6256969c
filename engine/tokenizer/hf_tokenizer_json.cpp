#include "engine/tokenizer/hf_tokenizer_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "engine/tokenizer/regex_splitter.h"

namespace stemma {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 64;         // tokenizer.json nests a few levels; Sequences nest
constexpr int64_t kMaxTokenId = 1 << 24;  // 16M tokens: more is a corrupt file
constexpr uint64_t kMaxFileBytes = 1ull << 31;

Result<std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return InvalidArgument(path.string() + " is " + std::to_string(size) +
                           " bytes (tokenizer files over 2 GiB are refused)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open " + path.string());
  std::string out;
  if (!ec) out.reserve(static_cast<size_t>(size));
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return IoError("reading " + path.string() + " failed");
  return out;
}

// The deepest nesting of arrays and objects in JSON text, scanned without recursion, so a
// hostile file is refused before anything walks it recursively.
Status check_depth(std::string_view text, const char* what) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return InvalidArgument(std::string(what) + ": JSON nested deeper than " +
                               std::to_string(kMaxJsonDepth) + " levels (at byte " +
                               std::to_string(i) + ")");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return OkStatus();
}

// tokenizer_config.json writes a token either as a string or as {"content": ...}.
std::string token_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) {
    return j["content"].get<std::string>();
  }
  return "";
}

std::string describe(const json& j) {
  std::string d = j.dump();
  if (d.size() > 200) d = d.substr(0, 200) + "...";
  return d;
}

// A Replace / Split pattern: {"String": s} or {"Regex": r}.
Status read_pattern(const json& j, const char* component, std::string* pattern, bool* regex) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    *pattern = j["String"].get<std::string>();
    *regex = false;
    return OkStatus();
  }
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    *pattern = j["Regex"].get<std::string>();
    *regex = true;
    return OkStatus();
  }
  return InvalidArgument(std::string("tokenizer.json: ") + component + " pattern " + describe(j) +
                         " is neither {\"String\": ...} nor {\"Regex\": ...}");
}

Result<SplitBehavior> read_behavior(const json& j, const char* component) {
  const std::string b = j.value("behavior", "Isolated");
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return Unsupported(std::string("tokenizer.json: ") + component + " behavior '" + b + "'");
}

Result<PrependScheme> read_prepend_scheme(const json& j) {
  if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
    const std::string p = j["prepend_scheme"].get<std::string>();
    if (p == "always") return PrependScheme::kAlways;
    if (p == "first") return PrependScheme::kFirst;
    if (p == "never") return PrependScheme::kNever;
    return Unsupported("tokenizer.json: Metaspace prepend_scheme '" + p + "'");
  }
  // The older form.
  return j.value("add_prefix_space", true) ? PrependScheme::kAlways : PrependScheme::kNever;
}

std::string read_replacement(const json& j) {
  if (j.contains("replacement") && j["replacement"].is_string()) {
    return j["replacement"].get<std::string>();
  }
  if (j.contains("str_rep") && j["str_rep"].is_string()) return j["str_rep"].get<std::string>();
  return "\xE2\x96\x81";
}

Status read_normalizer(const json& j, int depth, std::vector<NormalizerSpec>* out) {
  if (j.is_null()) return OkStatus();
  if (depth > kMaxJsonDepth) return InvalidArgument("tokenizer.json: normalizers nested too deep");
  if (!j.is_object()) return InvalidArgument("tokenizer.json: normalizer " + describe(j));
  const std::string type = j.value("type", "");
  using K = NormalizerSpec::Kind;
  NormalizerSpec n;
  if (type == "Sequence") {
    for (const auto& p : j.value("normalizers", json::array())) {
      STEMMA_RETURN_IF_ERROR(read_normalizer(p, depth + 1, out));
    }
    return OkStatus();
  } else if (type == "NFC") {
    n.kind = K::kNfc;
  } else if (type == "NFD") {
    n.kind = K::kNfd;
  } else if (type == "NFKC") {
    n.kind = K::kNfkc;
  } else if (type == "NFKD") {
    n.kind = K::kNfkd;
  } else if (type == "Lowercase") {
    n.kind = K::kLowercase;
  } else if (type == "StripAccents") {
    n.kind = K::kStripAccents;
  } else if (type == "Replace") {
    n.kind = K::kReplace;
    STEMMA_RETURN_IF_ERROR(
        read_pattern(j.value("pattern", json()), "Replace normalizer", &n.pattern, &n.regex));
    n.content = j.value("content", "");
  } else if (type == "Prepend") {
    n.kind = K::kPrepend;
    n.content = j.value("prepend", "");
  } else if (type == "Strip") {
    n.kind = K::kStrip;
    n.left = j.value("strip_left", false);
    n.right = j.value("strip_right", false);
  } else if (type == "BertNormalizer") {
    n.kind = K::kBert;
    n.clean_text = j.value("clean_text", true);
    n.handle_chinese_chars = j.value("handle_chinese_chars", true);
    n.lowercase = j.value("lowercase", true);
    const json sa = j.value("strip_accents", json());
    n.strip_accents = sa.is_boolean() ? (sa.get<bool>() ? 1 : 0) : -1;
  } else if (type == "Precompiled" &&
             (!j.contains("precompiled_charsmap") || j["precompiled_charsmap"].is_null() ||
              j["precompiled_charsmap"] == "")) {
    return OkStatus();  // an empty charsmap changes nothing
  } else {
    return Unsupported("tokenizer.json: normalizer '" + type + "' (" + describe(j) + ")");
  }
  out->push_back(std::move(n));
  return OkStatus();
}

Status read_pre_tokenizer(const json& j, int depth, std::vector<PreTokenizerSpec>* out) {
  if (j.is_null()) return OkStatus();
  if (depth > kMaxJsonDepth) {
    return InvalidArgument("tokenizer.json: pre-tokenizers nested too deep");
  }
  if (!j.is_object()) return InvalidArgument("tokenizer.json: pre-tokenizer " + describe(j));
  const std::string type = j.value("type", "");
  using K = PreTokenizerSpec::Kind;
  PreTokenizerSpec p;
  if (type == "Sequence") {
    for (const auto& s : j.value("pretokenizers", json::array())) {
      STEMMA_RETURN_IF_ERROR(read_pre_tokenizer(s, depth + 1, out));
    }
    return OkStatus();
  } else if (type == "Split") {
    p.kind = K::kSplit;
    STEMMA_RETURN_IF_ERROR(
        read_pattern(j.value("pattern", json()), "Split pre-tokenizer", &p.pattern, &p.regex));
    STEMMA_ASSIGN_OR_RETURN(p.behavior, read_behavior(j, "Split pre-tokenizer"));
    p.invert = j.value("invert", false);
  } else if (type == "Digits") {
    p.kind = K::kDigits;
    p.individual_digits = j.value("individual_digits", false);
  } else if (type == "ByteLevel") {
    p.kind = K::kByteLevel;
    p.add_prefix_space = j.value("add_prefix_space", true);
    p.use_regex = j.value("use_regex", true);
  } else if (type == "Metaspace") {
    p.kind = K::kMetaspace;
    p.replacement = read_replacement(j);
    STEMMA_ASSIGN_OR_RETURN(p.prepend_scheme, read_prepend_scheme(j));
    p.split = j.value("split", true);
  } else if (type == "Punctuation") {
    p.kind = K::kPunctuation;
    STEMMA_ASSIGN_OR_RETURN(p.behavior, read_behavior(j, "Punctuation pre-tokenizer"));
  } else if (type == "Whitespace") {
    p.kind = K::kWhitespace;
  } else if (type == "WhitespaceSplit") {
    p.kind = K::kWhitespaceSplit;
  } else if (type == "BertPreTokenizer") {
    p.kind = K::kBert;
  } else if (type == "CharDelimiterSplit") {
    p.kind = K::kCharDelimiter;
    p.pattern = j.value("delimiter", "");
  } else {
    return Unsupported("tokenizer.json: pre-tokenizer '" + type + "' (" + describe(j) + ")");
  }
  out->push_back(std::move(p));
  return OkStatus();
}

Status read_decoder(const json& j, int depth, std::vector<DecoderSpec>* out) {
  if (depth > kMaxJsonDepth) return InvalidArgument("tokenizer.json: decoders nested too deep");
  if (!j.is_object()) return InvalidArgument("tokenizer.json: decoder " + describe(j));
  const std::string type = j.value("type", "");
  using K = DecoderSpec::Kind;
  DecoderSpec d;
  if (type == "Sequence") {
    for (const auto& s : j.value("decoders", json::array())) {
      STEMMA_RETURN_IF_ERROR(read_decoder(s, depth + 1, out));
    }
    return OkStatus();
  } else if (type == "ByteLevel") {
    d.kind = K::kByteLevel;
  } else if (type == "Replace") {
    d.kind = K::kReplace;
    STEMMA_RETURN_IF_ERROR(
        read_pattern(j.value("pattern", json()), "Replace decoder", &d.pattern, &d.regex));
    d.content = j.value("content", "");
  } else if (type == "ByteFallback") {
    d.kind = K::kByteFallback;
  } else if (type == "Fuse") {
    d.kind = K::kFuse;
  } else if (type == "Strip") {
    d.kind = K::kStrip;
    d.content = j.value("content", " ");
    d.start = j.value("start", 0);
    d.stop = j.value("stop", 0);
    if (d.start < 0 || d.stop < 0) {
      return InvalidArgument("tokenizer.json: Strip decoder with a negative count");
    }
  } else if (type == "Metaspace") {
    d.kind = K::kMetaspace;
    d.replacement = read_replacement(j);
    STEMMA_ASSIGN_OR_RETURN(d.prepend_scheme, read_prepend_scheme(j));
  } else if (type == "WordPiece") {
    d.kind = K::kWordPiece;
    d.prefix = j.value("prefix", "##");
    d.cleanup = j.value("cleanup", true);
  } else if (type == "BPEDecoder") {
    d.kind = K::kBpe;
    d.prefix = j.value("suffix", "</w>");
  } else if (type == "CTC") {
    d.kind = K::kCtc;
    d.prefix = j.value("pad_token", "<pad>");
    d.word_delimiter = j.value("word_delimiter_token", "|");
    d.cleanup = j.value("cleanup", true);
  } else {
    return Unsupported("tokenizer.json: decoder '" + type + "' (" + describe(j) + ")");
  }
  out->push_back(std::move(d));
  return OkStatus();
}

// The double HF gets for a JSON number: serde_json without its float_roundtrip feature makes
// the decimal significand a double and then multiplies or divides by a power of ten, which can
// land one unit in the last place away from the correctly rounded value nlohmann gives. Unigram
// ties between paths are decided by those last bits, so scores are read the way HF reads them.
// The file's digits are recovered as the shortest decimal that round-trips (what both Rust's
// and Python's JSON writers emit).
double serde_json_f64(double value) {
  if (!std::isfinite(value) || value == 0.0) return value;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  const bool negative = sci[0] == '-';
  if (negative) sci.remove_prefix(1);
  const size_t e = sci.find('e');
  int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  uint64_t significand = 0;
  int fraction_digits = 0;
  bool after_point = false;
  for (char c : sci.substr(0, e)) {
    if (c == '.') {
      after_point = true;
      continue;
    }
    significand = significand * 10 + static_cast<uint64_t>(c - '0');
    if (after_point) ++fraction_digits;
  }
  exponent -= fraction_digits;
  static const std::vector<double> pow10 = [] {
    std::vector<double> p;
    for (int i = 0; i <= 308; ++i)
      p.push_back(std::strtod(("1e" + std::to_string(i)).c_str(), nullptr));
    return p;
  }();
  double f = static_cast<double>(significand);
  while (true) {
    const int a = exponent < 0 ? -exponent : exponent;
    if (a <= 308) {
      f = exponent >= 0 ? f * pow10[a] : f / pow10[a];
      break;
    }
    if (exponent >= 0) return value;  // overflow: serde refuses; keep nlohmann's
    f /= 1e308;
    exponent += 308;
  }
  return negative ? -f : f;
}

Result<int32_t> checked_id(const json& j, const std::string& what) {
  if (!j.is_number_integer()) {
    return CorruptData("tokenizer.json: " + what + " has id " + describe(j) + " (not an integer)");
  }
  const int64_t id = j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{INT64_MAX}
                         ? INT64_MAX
                         : j.get<int64_t>();
  if (id < 0 || id > kMaxTokenId) {
    return CorruptData("tokenizer.json: " + what + " has id " + std::to_string(id) +
                       " (ids must be in [0, " + std::to_string(kMaxTokenId) + "])");
  }
  return static_cast<int32_t>(id);
}

// The post-processor's ids around one sequence (TemplateProcessing, BertProcessing,
// RobertaProcessing; ByteLevel adds nothing).
Status read_post_processor(const json& j, int depth, const TokenizerSpec& spec,
                           std::vector<int32_t>* prefix, std::vector<int32_t>* suffix) {
  if (j.is_null()) return OkStatus();
  if (depth > kMaxJsonDepth) return InvalidArgument("tokenizer.json: processors nested too deep");
  const std::string type = j.value("type", "");
  auto find_id = [&](const std::string& text) -> int32_t {
    for (size_t i = 0; i < spec.tokens.size(); ++i) {
      if (spec.tokens[i] == text) return static_cast<int32_t>(i);
    }
    return -1;
  };
  if (type == "Sequence") {
    for (const auto& p : j.value("processors", json::array())) {
      STEMMA_RETURN_IF_ERROR(read_post_processor(p, depth + 1, spec, prefix, suffix));
    }
    return OkStatus();
  }
  if (type == "ByteLevel") return OkStatus();
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    prefix->clear();
    suffix->clear();
    for (const char* key : {"cls", "sep"}) {
      const json& pair = j.at(key);
      STEMMA_ASSIGN_OR_RETURN(int32_t id, checked_id(pair.at(1), std::string(type) + " " + key));
      (std::string(key) == "cls" ? prefix : suffix)->push_back(id);
    }
    return OkStatus();
  }
  if (type == "TemplateProcessing") {
    prefix->clear();
    suffix->clear();
    const json specials = j.value("special_tokens", json::object());
    bool seen_sequence = false;
    for (const auto& piece : j.value("single", json::array())) {
      if (piece.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      if (!piece.contains("SpecialToken")) {
        return Unsupported("tokenizer.json: template piece " + describe(piece));
      }
      const std::string name = piece["SpecialToken"].value("id", "");
      std::vector<int32_t> ids;
      if (specials.contains(name) && specials[name].contains("ids")) {
        for (const auto& id : specials[name]["ids"]) {
          STEMMA_ASSIGN_OR_RETURN(int32_t v, checked_id(id, "template token '" + name + "'"));
          ids.push_back(v);
        }
      } else {
        const int32_t id = find_id(name);
        if (id < 0) {
          return CorruptData("tokenizer.json: template token '" + name + "' is not a token");
        }
        ids.push_back(id);
      }
      auto* dest = seen_sequence ? suffix : prefix;
      dest->insert(dest->end(), ids.begin(), ids.end());
    }
    return OkStatus();
  }
  return Unsupported("tokenizer.json: post-processor '" + type + "'");
}

Status read_model(const json& model, TokenizerSpec* spec) {
  const std::string type = model.value("type", "");
  auto vocab_object = [&]() -> Result<std::vector<std::pair<std::string, int32_t>>> {
    std::vector<std::pair<std::string, int32_t>> out;
    const json& vocab = model.at("vocab");
    if (!vocab.is_object()) return CorruptData("tokenizer.json: model vocab is not an object");
    out.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      const json& id = it.value();
      if (id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() <= kMaxTokenId) {
        out.emplace_back(it.key(), static_cast<int32_t>(id.get<int64_t>()));
        continue;
      }
      STEMMA_ASSIGN_OR_RETURN(int32_t i, checked_id(id, "token '" + it.key() + "'"));
      out.emplace_back(it.key(), i);
    }
    return out;
  };
  std::vector<std::pair<std::string, int32_t>> entries;
  if (type == "BPE") {
    if (model.contains("dropout") && !model["dropout"].is_null() &&
        model["dropout"].get<double>() != 0.0) {
      return Unsupported("tokenizer.json: BPE dropout (sampled tokenization)");
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty()) {
        return Unsupported(std::string("tokenizer.json: BPE ") + key + " '" +
                           model[key].get<std::string>() + "'");
      }
    }
    STEMMA_ASSIGN_OR_RETURN(entries, vocab_object());
    spec->byte_fallback = model.value("byte_fallback", false);
    spec->fuse_unk = model.value("fuse_unk", false);
    spec->ignore_merges = model.value("ignore_merges", false) ? 1 : 0;
    const json merges = model.value("merges", json::array());
    for (const auto& m : merges) {
      if (m.is_string()) {
        spec->merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        spec->merge_pairs.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        return CorruptData("tokenizer.json: merge " +
                           std::to_string(spec->merges.size() + spec->merge_pairs.size()) +
                           " is neither \"a b\" nor [a, b]");
      }
    }
    if (!spec->merges.empty() && !spec->merge_pairs.empty()) {
      return CorruptData("tokenizer.json: merges mix \"a b\" strings and [a, b] pairs");
    }
  } else if (type == "WordPiece" || type == "WordLevel") {
    spec->model = type == "WordPiece" ? "wordpiece" : "wordlevel";
    STEMMA_ASSIGN_OR_RETURN(entries, vocab_object());
    spec->continuing_subword_prefix = model.value("continuing_subword_prefix", "##");
    spec->max_input_chars_per_word = model.value("max_input_chars_per_word", 100);
  } else if (type == "Unigram") {
    spec->model = "unigram";
    const json& vocab = model.at("vocab");
    if (!vocab.is_array()) return CorruptData("tokenizer.json: Unigram vocab is not a list");
    if (vocab.size() > static_cast<size_t>(kMaxTokenId)) {
      return CorruptData("tokenizer.json: Unigram vocab of " + std::to_string(vocab.size()));
    }
    for (size_t i = 0; i < vocab.size(); ++i) {
      const json& e = vocab[i];
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) {
        return CorruptData("tokenizer.json: Unigram piece " + std::to_string(i) + " " +
                           describe(e) + " is not [piece, score]");
      }
      entries.emplace_back(e[0].get<std::string>(), static_cast<int32_t>(i));
      spec->unigram_scores.push_back(serde_json_f64(e[1].get<double>()));
    }
    spec->byte_fallback = model.value("byte_fallback", false);
    if (model.contains("unk_id") && !model["unk_id"].is_null()) {
      STEMMA_ASSIGN_OR_RETURN(spec->unk_id, checked_id(model["unk_id"], "Unigram unk"));
    }
  } else {
    return Unsupported("tokenizer.json: model type '" + type +
                       "' (supported: BPE, WordPiece, Unigram, WordLevel)");
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    spec->unk_token = model["unk_token"].get<std::string>();
  }
  int32_t max_id = -1;
  for (const auto& e : entries) max_id = std::max(max_id, e.second);
  spec->tokens.assign(static_cast<size_t>(max_id + 1), std::string());
  spec->token_types.assign(static_cast<size_t>(max_id + 1), 5);  // unused until claimed
  spec->in_model_vocab.assign(static_cast<size_t>(max_id + 1), 0);
  for (auto& [tok, id] : entries) {
    spec->tokens[id] = std::move(tok);
    spec->token_types[id] = 1;
    spec->in_model_vocab[id] = 1;
  }
  return OkStatus();
}

}  // namespace

Result<TokenizerSpec> parse_hf_tokenizer(const std::string& tokenizer_json,
                                         const std::string& config_json) {
  STEMMA_RETURN_IF_ERROR(check_depth(tokenizer_json, "tokenizer.json"));
  STEMMA_RETURN_IF_ERROR(check_depth(config_json, "tokenizer_config.json"));
  try {
    const json tj = json::parse(tokenizer_json);
    json cfg = config_json.empty() ? json::object() : json::parse(config_json);
    if (!cfg.is_object()) cfg = json::object();
    if (!tj.is_object()) return CorruptData("tokenizer.json: not a JSON object");
    TokenizerSpec spec;
    spec.hf_pipeline = true;
    STEMMA_RETURN_IF_ERROR(read_normalizer(tj.value("normalizer", json()), 0, &spec.normalizers));
    STEMMA_RETURN_IF_ERROR(
        read_pre_tokenizer(tj.value("pre_tokenizer", json()), 0, &spec.pre_tokenizers));
    const json decoder = tj.value("decoder", json());
    spec.has_decoder = !decoder.is_null();
    if (spec.has_decoder) STEMMA_RETURN_IF_ERROR(read_decoder(decoder, 0, &spec.decoders));
    STEMMA_RETURN_IF_ERROR(read_model(tj.at("model"), &spec));
    if (spec.model.empty()) {
      bool byte_level = false;
      for (const auto& p : spec.pre_tokenizers) {
        byte_level = byte_level || p.kind == PreTokenizerSpec::Kind::kByteLevel;
      }
      spec.model = byte_level ? "gpt2" : "llama";
    }

    // The legacy fields, for what reads them (GGUF conversion, the scheduler): the one Split
    // regex by name, NFC, and whether a "▁" goes in front of the text.
    int splits = 0;
    for (const auto& p : spec.pre_tokenizers) {
      if (p.kind == PreTokenizerSpec::Kind::kSplit && p.regex) {
        ++splits;
        spec.pre_regex = p.pattern;
      }
      if (p.kind == PreTokenizerSpec::Kind::kMetaspace &&
          p.prepend_scheme != PrependScheme::kNever) {
        spec.add_space_prefix = true;
      }
      if (p.kind == PreTokenizerSpec::Kind::kByteLevel && p.use_regex && spec.pre.empty()) {
        spec.pre = "gpt2";
      }
    }
    if (splits > 1) spec.pre_regex.clear();
    if (!spec.pre_regex.empty()) {
      spec.pre = "custom";
      for (const char* name : {"llama-bpe", "qwen2", "gpt2"}) {
        if (pre_tokenizer_regex_for(name) == spec.pre_regex) {
          spec.pre = name;
          spec.pre_regex.clear();
          break;
        }
      }
    }
    spec.normalizer = "none";
    for (const auto& n : spec.normalizers) {
      if (n.kind == NormalizerSpec::Kind::kNfc) spec.normalizer = "nfc";
      if (n.kind == NormalizerSpec::Kind::kPrepend && n.content == "\xE2\x96\x81") {
        spec.add_space_prefix = true;
      }
    }

    // Added tokens. HF gives each the id its content has (an earlier added token's, else the
    // model's), else the next free one after the model's vocabulary, whatever id the file
    // says (it only warns); the file's id must still be a valid u32, as HF requires. Their
    // content wins over the model's token at the same id (HF decodes the id to the content).
    const json added = tj.value("added_tokens", json::array());
    if (!added.is_array()) return CorruptData("tokenizer.json: added_tokens is not a list");
    int32_t model_size = 0;
    std::unordered_map<std::string, int32_t> model_ids, added_ids;
    for (size_t i = 0; i < spec.tokens.size(); ++i) {
      if (!spec.in_model_vocab[i]) continue;
      ++model_size;
      model_ids.emplace(spec.tokens[i], static_cast<int32_t>(i));
    }
    int32_t max_added = -1;
    for (const auto& a : added) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string()) {
        return CorruptData("tokenizer.json: added token " + describe(a) + " has no content");
      }
      AddedTokenSpec t;
      t.content = a["content"].get<std::string>();
      STEMMA_ASSIGN_OR_RETURN(t.id,
                              checked_id(a.value("id", json()), "added token '" + t.content + "'"));
      if (auto it = added_ids.find(t.content); it != added_ids.end()) {
        t.id = it->second;
      } else if (auto m = model_ids.find(t.content); m != model_ids.end()) {
        t.id = m->second;
      } else {
        t.id = max_added < 0 || max_added < model_size ? model_size : max_added + 1;
      }
      if (t.id > kMaxTokenId) {
        return CorruptData("tokenizer.json: added token '" + t.content + "' would get id " +
                           std::to_string(t.id));
      }
      added_ids.emplace(t.content, t.id);
      max_added = std::max(max_added, t.id);
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.single_word = a.value("single_word", false);
      t.normalized = a.value("normalized", !t.special);
      if (static_cast<size_t>(t.id) >= spec.tokens.size()) {
        spec.tokens.resize(t.id + 1);
        spec.token_types.resize(t.id + 1, 5);
        spec.in_model_vocab.resize(t.id + 1, 0);
      }
      spec.tokens[t.id] = t.content;
      spec.token_types[t.id] = t.special ? 3 : 4;
      spec.added_tokens.push_back(std::move(t));
    }
    if (spec.tokens.empty()) return InvalidArgument("tokenizer.json: the vocabulary is empty");
    if (spec.model == "llama" && spec.byte_fallback) {
      for (size_t i = 0; i < spec.tokens.size(); ++i) {
        const std::string& tok = spec.tokens[i];
        if (spec.token_types[i] == 1 && tok.size() == 6 && tok.rfind("<0x", 0) == 0 &&
            tok[5] == '>') {
          spec.token_types[i] = 6;
        }
      }
    }
    auto find_id = [&](const std::string& text) -> int32_t {
      if (text.empty()) return -1;
      for (size_t i = 0; i < spec.tokens.size(); ++i) {
        if (spec.tokens[i] == text) return static_cast<int32_t>(i);
      }
      return -1;
    };
    if (spec.model != "unigram") spec.unk_id = find_id(spec.unk_token);

    // BOS/EOS: ids from tokenizer_config's names; what encode adds from the post-processor
    // (HF's encode(add_special_tokens=True)).
    spec.bos_id = find_id(token_text(cfg.value("bos_token", json())));
    spec.eos_id = find_id(token_text(cfg.value("eos_token", json())));
    spec.pad_id = find_id(token_text(cfg.value("pad_token", json())));
    spec.post_template = true;
    STEMMA_RETURN_IF_ERROR(read_post_processor(tj.value("post_processor", json()), 0, spec,
                                               &spec.post_prefix, &spec.post_suffix));
    spec.add_bos = !spec.post_prefix.empty();
    spec.add_eos = !spec.post_suffix.empty();
    if (spec.add_bos) spec.bos_id = spec.post_prefix.front();
    if (spec.add_eos) spec.eos_id = spec.post_suffix.back();

    // What transformers hands a chat template (its special_tokens_map).
    for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                            "cls_token", "mask_token"}) {
      if (!cfg.contains(key) || cfg[key].is_null()) continue;
      spec.special_token_texts.emplace_back(key, token_text(cfg[key]));
    }
    for (const auto& t : cfg.value("additional_special_tokens", json::array())) {
      spec.additional_special_tokens.push_back(token_text(t));
    }

    const json tmpl = cfg.value("chat_template", json());
    if (tmpl.is_string()) {
      spec.chat_template = tmpl.get<std::string>();
    } else if (tmpl.is_array()) {
      for (const auto& t : tmpl) {
        if (t.is_object() && t.value("name", "") == "default") {
          spec.chat_template = t.value("template", "");
        }
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
