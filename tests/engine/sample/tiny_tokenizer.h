// A small byte-level BPE tokenizer for tests: the 256 byte tokens (ids 0..255, id = byte), then
// one token per prefix of each merged word (built by merging the prefix with its next byte, in
// the order given), then control tokens "<s>" (BOS) and "</s>" (EOS). GPT-2 pre-tokenization.
#pragma once

#include <cstdio>
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

// A small SentencePiece-style BPE tokenizer (Llama 2 layout): <unk>, <s>, </s>, the 256 byte
// fallback tokens <0xNN>, every printable ASCII character ("\xe2\x96\x81" for space), then one
// token per prefix of each word (merges ranked by score), with add_space_prefix as Llama 2 has.
inline std::unique_ptr<Tokenizer> make_tiny_sp_tokenizer(const std::vector<std::string>& words) {
  const std::string kSpace = "\xe2\x96\x81";
  auto sp = [&](const std::string& text) {
    std::string out;
    for (char c : text) out += c == ' ' ? kSpace : std::string(1, c);
    return out;
  };
  TokenizerSpec spec;
  spec.model = "llama";
  spec.add_space_prefix = true;
  auto add = [&](std::string text, int type, float score) {
    spec.tokens.push_back(std::move(text));
    spec.token_types.push_back(type);
    spec.scores.push_back(score);
  };
  add("<unk>", 2, 0.0f);
  add("<s>", 3, 0.0f);
  add("</s>", 3, 0.0f);
  spec.unk_id = 0;
  spec.bos_id = 1;
  spec.eos_id = 2;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 6, 0.0f);
  }
  for (int c = 0x20; c < 0x7f; ++c) add(sp(std::string(1, static_cast<char>(c))), 1, -1000.0f);
  std::set<std::string> have;
  float score = 0.0f;
  for (const std::string& w : words) {
    for (size_t n = 2; n <= w.size(); ++n) {
      const std::string piece = sp(w.substr(0, n));
      if (!have.insert(piece).second) continue;
      add(piece, 1, score);
      score -= 1.0f;
    }
  }
  auto t = Tokenizer::create(std::move(spec));
  return t.ok() ? std::move(t).value() : nullptr;
}

}  // namespace stemma::testing
