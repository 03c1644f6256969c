// Bad tokenizer input is refused with an error naming what is wrong: vocabularies, merges,
// ids, unsupported pipeline components, nesting too deep to walk.
#include <doctest/doctest.h>

#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma {
namespace {

std::string tokenizer_json(const std::string& model, const std::string& rest = "") {
  return "{\"model\":" + model + ",\"normalizer\":null,\"pre_tokenizer\":null" + rest + "}";
}

const std::string kBpe = R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]})";

std::string error_of(const std::string& json) {
  auto spec = parse_hf_tokenizer(json, "");
  if (!spec.ok()) return spec.status().message();
  auto t = Tokenizer::create(std::move(*spec));
  return t.ok() ? std::string() : t.status().message();
}

}  // namespace

TEST_CASE("tokenizer: a byte-level vocabulary without merges is refused with a clear error") {
  TokenizerSpec spec;
  spec.model = "gpt2";
  spec.pre = "gpt2";
  for (int b = 0; b < 256; ++b) spec.tokens.push_back("t" + std::to_string(b));
  auto t = Tokenizer::create(spec);
  REQUIRE_FALSE(t.ok());
  // The vocabulary lacks the byte map's characters: named first.
  CHECK(t.status().message().find("no token for byte") != std::string::npos);
}

TEST_CASE("tokenizer: GGUF specs without merges, bad merges, unknown models are named") {
  TokenizerSpec spec;
  spec.model = "llama";
  spec.tokens = {"a", "b", "ab"};
  auto none = Tokenizer::create(spec);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("has no merges") != std::string::npos);
  spec.merges = {"a b"};
  auto t = Tokenizer::create(spec);
  REQUIRE(t.ok());
  CHECK((*t)->encode("ab") == std::vector<int32_t>{2});
  auto d = (*t)->decode(std::vector<int32_t>{2, 7});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("token id 7 at position 1") != std::string::npos);
  spec.model = "sentencepiece-unigram";
  auto w = Tokenizer::create(spec);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().find("'sentencepiece-unigram'") != std::string::npos);

  CHECK(error_of(tokenizer_json(R"({"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]})"))
            .find("merge 0 'a c'") != std::string::npos);
  CHECK(error_of(tokenizer_json(R"({"type":"Fancy","vocab":{}})")).find("model type 'Fancy'") !=
        std::string::npos);
  CHECK(error_of("{\"model\": [1,").find("tokenizer.json") != std::string::npos);
}

TEST_CASE("tokenizer: unsupported pipeline components are refused by name") {
  CHECK(error_of(tokenizer_json(kBpe, R"(,"decoder":{"type":"Mystery"})"))
            .find("decoder 'Mystery'") != std::string::npos);
  const std::string pre = R"({"model":)" + kBpe +
                          R"(,"normalizer":{"type":"Precompiled","precompiled_charsmap":"AAAA"},
                           "pre_tokenizer":null})";
  CHECK(error_of(pre).find("normalizer 'Precompiled'") != std::string::npos);
  const std::string scripts =
      R"({"model":)" + kBpe + R"(,"normalizer":null,"pre_tokenizer":{"type":"UnicodeScripts"}})";
  CHECK(error_of(scripts).find("pre-tokenizer 'UnicodeScripts'") != std::string::npos);
  const std::string dropout =
      tokenizer_json(R"({"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]})");
  CHECK(error_of(dropout).find("dropout") != std::string::npos);
  const std::string behavior = R"({"model":)" + kBpe +
                               R"(,"normalizer":null,"pre_tokenizer":{"type":"Split",
      "pattern":{"String":" "},"behavior":"Sideways","invert":false}})";
  CHECK(error_of(behavior).find("behavior 'Sideways'") != std::string::npos);
}

TEST_CASE("tokenizer: negative and huge token ids are refused (issue 15 item 3)") {
  // A negative added-token id used to index before the vocabulary (heap overflow); -2^63
  // wrapped onto token 0.
  for (const char* id : {"-1", "-9223372036854775808", "9223372036854775807", "16777217",
                         "18446744073709551615", "1.5", "\"3\""}) {
    const std::string json = tokenizer_json(kBpe, std::string(R"(,"added_tokens":[{"id":)") + id +
                                                      R"(,"content":"<x>","special":true}])");
    const std::string err = error_of(json);
    CHECK_MESSAGE(err.find("added token '<x>' has id") != std::string::npos, id << ": " << err);
  }
  const std::string vocab = tokenizer_json(R"({"type":"BPE","vocab":{"a":-5},"merges":[]})");
  CHECK(error_of(vocab).find("token 'a' has id -5") != std::string::npos);
}

TEST_CASE("tokenizer: Sequence nesting is bounded, named, and never overflows the stack") {
  // Issue 15 item 5: a normalizer / pre-tokenizer Sequence nested 200,000 deep used to recurse
  // until the stack ran out.
  for (const char* kind : {"normalizer", "pre_tokenizer", "decoder"}) {
    const std::string list = std::string(kind) == "normalizer"      ? "normalizers"
                             : std::string(kind) == "pre_tokenizer" ? "pretokenizers"
                                                                    : "decoders";
    std::string nested;
    const int depth = 200000;
    nested.reserve(static_cast<size_t>(depth) * 40);
    for (int i = 0; i < depth; ++i) nested += "{\"type\":\"Sequence\",\"" + list + "\":[";
    nested += "{\"type\":\"Sequence\",\"" + list + "\":[]}";
    for (int i = 0; i < depth; ++i) nested += "]}";
    const std::string json = "{\"model\":" + kBpe + ",\"" + kind + "\":" + nested + "}";
    const std::string err = error_of(json);
    CHECK_MESSAGE(err.find("nested deeper than 64 levels") != std::string::npos,
                  kind << ": " << err);
  }
  // Nesting within the limit loads.
  std::string ok = "{\"type\":\"NFC\"}";
  for (int i = 0; i < 20; ++i) ok = "{\"type\":\"Sequence\",\"normalizers\":[" + ok + "]}";
  CHECK(error_of("{\"model\":" + kBpe + ",\"normalizer\":" + ok + "}").empty());
}

TEST_CASE("tokenizer: BPE over text from tokenizer.json: unknown characters and byte fallback") {
  // HF drops a character with no token when the model has no unk_token.
  auto spec = parse_hf_tokenizer(tokenizer_json(kBpe), "");
  REQUIRE(spec.ok());
  auto t = Tokenizer::create(std::move(*spec));
  REQUIRE(t.ok());
  CHECK((*t)->encode("abzab", {.add_special = false}) == std::vector<int32_t>{2, 2});
  auto unk =
      parse_hf_tokenizer(tokenizer_json(R"({"type":"BPE","vocab":{"<unk>":0,"a":1},"merges":[],
                         "unk_token":"<unk>","fuse_unk":true})"),
                         "");
  REQUIRE(unk.ok());
  auto u = Tokenizer::create(std::move(*unk));
  REQUIRE(u.ok());
  CHECK((*u)->encode("azzab", {.add_special = false}) == std::vector<int32_t>{1, 0, 1, 0});
}

}  // namespace stemma
