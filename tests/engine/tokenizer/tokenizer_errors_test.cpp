#include <doctest/doctest.h>

#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma {

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

TEST_CASE("tokenizer: missing merges, bad merges, unknown model and pre-tokenizer are named") {
  auto ok_json = [](const std::string& merges, const std::string& model_type) {
    std::string vocab = "{\"a\":0,\"b\":1,\"ab\":2}";
    return "{\"model\":{\"type\":\"" + model_type + "\",\"vocab\":" + vocab +
           ",\"merges\":" + merges + "},\"normalizer\":null,\"pre_tokenizer\":null}";
  };
  {
    auto spec = parse_hf_tokenizer(ok_json("[]", "BPE"), "");
    REQUIRE(spec.ok());
    auto t = Tokenizer::create(*spec);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find("has no merges") != std::string::npos);
  }
  {
    auto spec = parse_hf_tokenizer(ok_json("[\"a c\"]", "BPE"), "");
    REQUIRE(spec.ok());
    auto t = Tokenizer::create(*spec);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find("merge 0 'a c'") != std::string::npos);
  }
  {
    auto spec = parse_hf_tokenizer(ok_json("[]", "Unigram"), "");
    REQUIRE_FALSE(spec.ok());
    CHECK(spec.status().message().find("model type 'Unigram'") != std::string::npos);
  }
  {
    auto spec = parse_hf_tokenizer("{\"model\": [1,", "");
    REQUIRE_FALSE(spec.ok());
    CHECK(spec.status().message().find("tokenizer.json") != std::string::npos);
  }
  TokenizerSpec spec;
  spec.model = "llama";
  spec.tokens = {"a", "b", "ab"};
  spec.merges = {"a b"};
  spec.add_space_prefix = false;
  auto t = Tokenizer::create(spec);
  REQUIRE(t.ok());
  CHECK((*t)->encode("ab") == std::vector<int32_t>{2});
  auto d = (*t)->decode(std::vector<int32_t>{2, 7});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("token id 7 at position 1") != std::string::npos);
  spec.model = "wordpiece";
  auto w = Tokenizer::create(spec);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().find("'wordpiece'") != std::string::npos);
}

}  // namespace stemma
