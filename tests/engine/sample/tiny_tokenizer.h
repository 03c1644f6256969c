// A small byte-level BPE tokenizer for tests: the 256 byte tokens (ids 0..255, id = byte), then
// one token per prefix of each merged word (built by merging the prefix with its next byte, in
// the order given), then control tokens "<s>" (BOS) and "</s>" (EOS). GPT-2 pre-tokenization.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::testing {

inline std::unique_ptr<Tokenizer> make_tiny_tokenizer(const std::vector<std::string>& words) {
  TokenizerSpec spec;
  spec.model = "gpt2";
  spec.pre = "gpt2";
  for (int b = 0; b < 256; ++b) {
    spec.tokens.push_back(byte_level::encode_byte(static_cast<uint8_t>(b)));
    spec.token_types.push_back(1);
  }
  std::set<std::string> have;
  std::vector<std::string> all = words;
  all.push_back("\x01\x02");  // a tokenizer needs at least one merge
  for (const std::string& w : all) {
    for (size_t n = 2; n <= w.size(); ++n) {
      const std::string merged = byte_level::encode(w.substr(0, n));
      if (!have.insert(merged).second) continue;
      spec.merges.push_back(byte_level::encode(w.substr(0, n - 1)) + " " +
                            byte_level::encode(w.substr(n - 1, 1)));
      spec.tokens.push_back(merged);
      spec.token_types.push_back(1);
    }
  }
  spec.bos_id = static_cast<int32_t>(spec.tokens.size());
  spec.tokens.push_back("<s>");
  spec.token_types.push_back(3);
  spec.eos_id = static_cast<int32_t>(spec.tokens.size());
  spec.tokens.push_back("</s>");
  spec.token_types.push_back(3);
  auto t = Tokenizer::create(std::move(spec));
  return t.ok() ? std::move(t).value() : nullptr;
}

}  // namespace stemma::testing
