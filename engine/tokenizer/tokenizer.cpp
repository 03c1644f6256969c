#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <numeric>

#include "engine/tokenizer/added_token_matcher.h"
#include "engine/tokenizer/bpe_model.h"
#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/unicode_nfc.h"
#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

constexpr int32_t kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeByte = 6;
constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // "▁"

// "<0x41>" -> 0x41, or -1.
int parse_byte_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = t[i];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace

Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(TokenizerSpec spec) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  const size_t n = spec.tokens.size();
  if (n == 0) return InvalidArgument("tokenizer: the vocabulary is empty");
  if (!spec.token_types.empty() && spec.token_types.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(spec.token_types.size()) +
                           " token types for " + std::to_string(n) + " tokens");
  }
  if (!spec.scores.empty() && spec.scores.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(spec.scores.size()) + " scores for " +
                           std::to_string(n) + " tokens");
  }
  for (int32_t* id : {&spec.bos_id, &spec.eos_id, &spec.unk_id, &spec.pad_id}) {
    if (*id >= static_cast<int32_t>(n)) {
      return InvalidArgument("tokenizer: special token id " + std::to_string(*id) +
                             " is past the vocabulary (" + std::to_string(n) + " tokens)");
    }
  }
  if (spec.model == "gpt2") {
    t->byte_level_ = true;
  } else if (spec.model != "llama") {
    return Unsupported("tokenizer model '" + spec.model +
                       "' (supported: gpt2 = byte-level BPE, llama = SentencePiece BPE)");
  }
  if (spec.token_types.empty()) spec.token_types.assign(n, 1);
  t->spec_ = std::move(spec);
  const TokenizerSpec& s = t->spec_;

  // Vocabulary: normal tokens are what BPE may produce; added tokens are split out before.
  std::unordered_map<std::string_view, int32_t> bpe_vocab;
  t->added_all_ = std::make_unique<AddedTokenMatcher>();
  t->added_plain_ = std::make_unique<AddedTokenMatcher>();
  t->byte_token_value_.assign(n, 0);
  int32_t byte_ids[256];
  std::fill(std::begin(byte_ids), std::end(byte_ids), -1);
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int32_t>(i);
    const std::string& tok = s.tokens[i];
    t->token_ids_.emplace(tok, id);
    const int32_t type = s.token_types[i];
    if (type == kTypeControl || type == kTypeUserDefined || type == kTypeUnknown) {
      t->added_all_->add(tok, id);
      if (type == kTypeUserDefined) t->added_plain_->add(tok, id);
    }
    if (!t->byte_level_ && type == kTypeByte) {
      const int b = parse_byte_token(tok);
      if (b < 0)
        return CorruptData("tokenizer: byte token " + std::to_string(i) + " '" + tok +
                           "' is not of the form <0xXX>");
      byte_ids[b] = id;
      t->byte_token_value_[i] = static_cast<uint8_t>(b);
      continue;
    }
    if (type == kTypeControl || type == kTypeUnknown) continue;
    bpe_vocab.emplace(tok, id);
  }
  if (t->byte_level_) {
    for (int b = 0; b < 256; ++b) {
      auto it = bpe_vocab.find(byte_level::encode_byte(static_cast<uint8_t>(b)));
      if (it == bpe_vocab.end()) {
        return CorruptData("tokenizer: byte-level vocabulary has no token for byte " +
                           std::to_string(b) + " ('" +
                           byte_level::encode_byte(static_cast<uint8_t>(b)) + "')");
      }
      byte_ids[b] = it->second;
    }
  }

  // Merges: explicit "a b" pairs ranked by position, or (SentencePiece without merges) every
  // split of a token into two tokens, ranked by the token's score.
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  if (!s.merges.empty()) {
    merges.reserve(s.merges.size());
    for (size_t r = 0; r < s.merges.size(); ++r) {
      const std::string& m = s.merges[r];
      bool found = false;
      for (size_t sp = m.find(' '); sp != std::string::npos && !found; sp = m.find(' ', sp + 1)) {
        auto a = bpe_vocab.find(std::string_view(m).substr(0, sp));
        auto b = bpe_vocab.find(std::string_view(m).substr(sp + 1));
        if (a == bpe_vocab.end() || b == bpe_vocab.end()) continue;
        auto merged = bpe_vocab.find(m.substr(0, sp) + m.substr(sp + 1));
        if (merged == bpe_vocab.end()) continue;
        merges.emplace(BpeModel::pair_key(a->second, b->second),
                       std::make_pair(static_cast<int32_t>(r), merged->second));
        found = true;
      }
      if (!found) {
        return CorruptData("tokenizer: merge " + std::to_string(r) + " '" + m +
                           "' does not name two tokens whose concatenation is a token");
      }
    }
  } else if (!t->byte_level_ && !s.scores.empty()) {
    std::vector<int32_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return s.scores[a] > s.scores[b]; });
    for (size_t r = 0; r < n; ++r) {
      const int32_t id = order[r];
      if (s.token_types[id] != 1 && s.token_types[id] != kTypeUserDefined) continue;
      const std::string_view tok = s.tokens[id];
      for (size_t cut = 1; cut < tok.size(); ++cut) {
        if ((static_cast<uint8_t>(tok[cut]) & 0xC0) == 0x80) continue;  // inside a character
        auto a = bpe_vocab.find(tok.substr(0, cut));
        auto b = bpe_vocab.find(tok.substr(cut));
        if (a == bpe_vocab.end() || b == bpe_vocab.end()) continue;
        merges.emplace(BpeModel::pair_key(a->second, b->second),
                       std::make_pair(static_cast<int32_t>(r), id));
      }
    }
  } else {
    return InvalidArgument(std::string("tokenizer: the ") +
                           (t->byte_level_ ? "byte-level BPE" : "SentencePiece") +
                           " vocabulary has no merges" + (t->byte_level_ ? "" : " and no scores") +
                           " (cannot tokenize)");
  }

  BpeModel::Options bpe;
  bpe.byte_level = t->byte_level_;
  bpe.byte_fallback = !t->byte_level_ && byte_ids[0] >= 0;
  bpe.fuse_unk = !t->byte_level_;
  bpe.unk_id = s.unk_id;
  if (t->byte_level_) {
    std::string pattern = s.pre_regex;
    if (pattern.empty()) {
      pattern = pre_tokenizer_regex_for(s.pre.empty() ? "gpt2" : s.pre);
      if (pattern.empty()) {
        return Unsupported("tokenizer: unknown pre-tokenizer '" + s.pre +
                           "' (known: gpt2, llama-bpe, qwen2)");
      }
    }
    STEMMA_ASSIGN_OR_RETURN(t->splitter_, RegexSplitter::create(pattern));
    bpe.ignore_merges =
        s.ignore_merges >= 0 ? s.ignore_merges == 1 : (s.pre == "llama-bpe" || s.pre == "llama3");
    t->nfc_ = s.normalizer == "nfc" || (s.normalizer.empty() && s.pre == "qwen2");
  } else {
    bpe.ignore_merges = s.ignore_merges == 1;
    t->nfc_ = s.normalizer == "nfc";
  }
  t->bpe_ = std::make_unique<BpeModel>(bpe, std::move(bpe_vocab), std::move(merges), byte_ids);
  return t;
}

void Tokenizer::encode_section(std::string_view text, std::vector<int32_t>* out) const {
  std::string normalized;
  if (nfc_) {
    normalized = nfc_normalize(text);
    text = normalized;
  }
  if (byte_level_) {
    std::vector<std::string_view> pieces;
    splitter_->split(text, &pieces);
    for (std::string_view p : pieces) bpe_->encode_word(p, out);
    return;
  }
  // SentencePiece: spaces become "▁", and (HF's Prepend normalizer, legacy Llama) every text
  // section starts with one.
  std::string word = spec_.add_space_prefix ? std::string(kSpaceMark) : std::string();
  word += replace_all(text, " ", kSpaceMark);
  bpe_->encode_word(word, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw, const EncodeOptions& options) const {
  const std::string text = utf8::sanitize(raw);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_special && spec_.add_bos && spec_.bos_id >= 0) ids.push_back(spec_.bos_id);
  std::vector<AddedTokenMatcher::Section> sections;
  (options.parse_special ? added_all_ : added_plain_)->split(text, &sections);
  for (const auto& section : sections) {
    if (section.token >= 0) {
      ids.push_back(section.token);
    } else {
      encode_section(section.text, &ids);
    }
  }
  if (options.add_special && spec_.add_eos && spec_.eos_id >= 0) ids.push_back(spec_.eos_id);
  return ids;
}

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < vocab_size() && spec_.token_types[id] == kTypeControl;
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  auto it = token_ids_.find(token);
  return it == token_ids_.end() ? -1 : it->second;
}

void Tokenizer::append_token_bytes(int32_t id, std::string* out) const {
  const std::string& tok = spec_.tokens[id];
  const int32_t type = spec_.token_types[id];
  if (type == kTypeControl || type == kTypeUserDefined || type == kTypeUnknown) {
    out->append(tok);  // added tokens are stored as their text
  } else if (byte_level_) {
    byte_level::decode(tok, out);
  } else if (type == kTypeByte) {
    out->push_back(static_cast<char>(byte_token_value_[id]));
  } else {
    out->append(replace_all(tok, kSpaceMark, " "));
  }
}

std::string Tokenizer::token_bytes(int32_t id) const {
  std::string out;
  if (id >= 0 && id < vocab_size()) append_token_bytes(id, &out);
  return out;
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids,
                                      const DecodeOptions& options) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= vocab_size()) {
      return OutOfRange("decode: token id " + std::to_string(id) + " at position " +
                        std::to_string(i) + " is outside the vocabulary (" +
                        std::to_string(vocab_size()) + " tokens)");
    }
    if (options.skip_special && is_control(id)) continue;
    append_token_bytes(id, &bytes);
  }
  std::string text = utf8::sanitize(bytes);
  // SentencePiece: the "▁" the encoder put in front comes back as one leading space (HF's Strip
  // decoder removes it from the decoded string).
  if (!byte_level_ && spec_.add_space_prefix && !text.empty() && text[0] == ' ') text.erase(0, 1);
  if (options.clean_up_spaces) text = clean_up_tokenization_spaces(text);
  return text;
}

Result<std::string> StreamDecoder::push(int32_t id) {
  if (id < 0 || id >= tokenizer_.vocab_size()) {
    return OutOfRange("stream decode: token id " + std::to_string(id) +
                      " is outside the vocabulary (" + std::to_string(tokenizer_.vocab_size()) +
                      " tokens)");
  }
  if (options_.skip_special && tokenizer_.is_control(id)) return std::string();
  tokenizer_.append_token_bytes(id, &pending_);
  if (at_start_ && !pending_.empty()) {
    at_start_ = false;
    if (!tokenizer_.byte_level_ && tokenizer_.spec_.add_space_prefix && pending_[0] == ' ') {
      pending_.erase(0, 1);
    }
  }
  const size_t ready = utf8::complete_prefix_length(pending_);
  std::string out = utf8::sanitize(std::string_view(pending_).substr(0, ready));
  pending_.erase(0, ready);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

std::string clean_up_tokenization_spaces(std::string_view text) {
  std::string s(text);
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{" .", "."},
                          {" ?", "?"},
                          {" !", "!"},
                          {" ,", ","},
                          {" ' ", "'"},
                          {" n't", "n't"},
                          {" 'm", "'m"},
                          {" 's", "'s"},
                          {" 've", "'ve"},
                          {" 're", "'re"}}) {
    s = replace_all(s, from, to);
  }
  return s;
}

}  // namespace stemma
