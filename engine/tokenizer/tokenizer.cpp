#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <deque>
#include <numeric>

#include "engine/tokenizer/added_token_matcher.h"
#include "engine/tokenizer/bpe_model.h"
#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/decoder.h"
#include "engine/tokenizer/normalizer.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/regex_splitter.h"
#include "engine/tokenizer/token_strings.h"
#include "engine/tokenizer/utf8.h"
#include "engine/tokenizer/word_models.h"

namespace stemma {
namespace {

constexpr int32_t kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeByte = 6;
constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // "▁"

// A GGUF-shaped spec (no HF pipeline) as the pipeline llama.cpp and HF give such a vocabulary.
Status synthesize_pipeline(TokenizerSpec* s) {
  const bool nfc = s->normalizer == "nfc" || (s->normalizer.empty() && s->pre == "qwen2");
  if (nfc) s->normalizers.push_back({.kind = NormalizerSpec::Kind::kNfc});
  if (s->model == "gpt2") {
    std::string pattern = s->pre_regex;
    if (pattern.empty()) {
      pattern = pre_tokenizer_regex_for(s->pre.empty() ? "gpt2" : s->pre);
      if (pattern.empty()) {
        return Unsupported("tokenizer: unknown pre-tokenizer '" + s->pre +
                           "' (known: gpt2, llama-bpe, qwen2)");
      }
    }
    s->pre_tokenizers.push_back(
        {.kind = PreTokenizerSpec::Kind::kSplit, .pattern = pattern, .regex = true});
    s->pre_tokenizers.push_back({.kind = PreTokenizerSpec::Kind::kByteLevel, .use_regex = false});
    s->decoders.push_back({.kind = DecoderSpec::Kind::kByteLevel});
  } else {
    if (s->add_space_prefix) {
      s->normalizers.push_back(
          {.kind = NormalizerSpec::Kind::kPrepend, .content = std::string(kSpaceMark)});
    }
    s->normalizers.push_back({.kind = NormalizerSpec::Kind::kReplace,
                              .pattern = " ",
                              .content = std::string(kSpaceMark)});
    s->decoders.push_back(
        {.kind = DecoderSpec::Kind::kReplace, .pattern = std::string(kSpaceMark), .content = " "});
    s->decoders.push_back({.kind = DecoderSpec::Kind::kByteFallback});
    s->decoders.push_back({.kind = DecoderSpec::Kind::kFuse});
    if (s->add_space_prefix) {
      s->decoders.push_back({.kind = DecoderSpec::Kind::kStrip, .content = " ", .start = 1});
    }
  }
  for (size_t i = 0; i < s->tokens.size(); ++i) {
    const int32_t type = s->token_types[i];
    if (type == kTypeControl || type == kTypeUserDefined || type == kTypeUnknown) {
      s->added_tokens.push_back({.id = static_cast<int32_t>(i),
                                 .content = s->tokens[i],
                                 .special = type != kTypeUserDefined});
    }
  }
  if (s->add_bos && s->bos_id >= 0) s->post_prefix.push_back(s->bos_id);
  if (s->add_eos && s->eos_id >= 0) s->post_suffix.push_back(s->eos_id);
  return OkStatus();
}

// The scheduler encodes text fragments without the "▁" SentencePiece puts at a section's start:
// a spec with add_space_prefix cleared drops HF's ways of adding it.
void drop_space_prefix(TokenizerSpec* s) {
  std::erase_if(s->normalizers, [](const NormalizerSpec& n) {
    return n.kind == NormalizerSpec::Kind::kPrepend && n.content == kSpaceMark;
  });
  for (auto& p : s->pre_tokenizers) {
    if (p.kind == PreTokenizerSpec::Kind::kMetaspace) p.prepend_scheme = PrependScheme::kNever;
  }
}

}  // namespace

Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(TokenizerSpec spec) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  STEMMA_RETURN_IF_ERROR(t->build(std::move(spec)));
  return t;
}

Status Tokenizer::build(TokenizerSpec spec) {
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
    if (*id >= static_cast<int32_t>(n) || *id < -1) {
      return InvalidArgument("tokenizer: special token id " + std::to_string(*id) +
                             " is outside the vocabulary (" + std::to_string(n) + " tokens)");
    }
  }
  const std::string m = spec.model;  // a copy: spec is moved into spec_ below
  const bool is_bpe = m == "gpt2" || m == "llama";
  if (!is_bpe && !(spec.hf_pipeline && (m == "wordpiece" || m == "unigram" || m == "wordlevel"))) {
    return Unsupported("tokenizer model '" + m +
                       "' (supported: gpt2 = byte-level BPE, llama = SentencePiece BPE; from "
                       "tokenizer.json also wordpiece, unigram, wordlevel)");
  }
  if (spec.token_types.empty()) spec.token_types.assign(n, 1);
  for (const auto& a : spec.added_tokens) {
    if (a.id < 0 || a.id >= static_cast<int32_t>(n)) {
      return InvalidArgument("tokenizer: added token '" + a.content + "' has id " +
                             std::to_string(a.id) + ", outside the vocabulary");
    }
  }
  for (const auto* ids : {&spec.post_prefix, &spec.post_suffix}) {
    for (int32_t id : *ids) {
      if (id < 0 || id >= static_cast<int32_t>(n)) {
        return InvalidArgument("tokenizer: post-processor token id " + std::to_string(id) +
                               " is outside the vocabulary");
      }
    }
  }
  if (!spec.hf_pipeline) {
    spec.normalizers.clear();
    spec.pre_tokenizers.clear();
    spec.decoders.clear();
    spec.added_tokens.clear();
    spec.post_prefix.clear();
    spec.post_suffix.clear();
    spec.has_decoder = true;
    spec.fuse_unk = m == "llama";
    STEMMA_RETURN_IF_ERROR(synthesize_pipeline(&spec));
  } else if (!spec.add_space_prefix) {
    drop_space_prefix(&spec);
  }
  spec_ = std::move(spec);
  const TokenizerSpec& s = spec_;

  STEMMA_ASSIGN_OR_RETURN(normalizer_, Normalizer::create(s.normalizers));
  STEMMA_ASSIGN_OR_RETURN(pre_tokenizer_, PreTokenizer::create(s.pre_tokenizers));
  STEMMA_ASSIGN_OR_RETURN(decoder_, Decoder::create(s.decoders, s.has_decoder));
  byte_level_ = pre_tokenizer_->byte_level() || (!s.hf_pipeline && m == "gpt2");
  if (s.hf_pipeline && m == "gpt2" && !byte_level_) {
    return Unsupported("tokenizer: byte-level BPE without a ByteLevel pre-tokenizer");
  }
  prefix_ids_ = s.post_prefix;
  suffix_ids_ = s.post_suffix;

  // Added tokens: matched on the raw text, or (normalized = true) on normalized text against
  // their normalized content.
  added_all_ = std::make_unique<AddedTokenMatcher>();
  added_plain_ = std::make_unique<AddedTokenMatcher>();
  normalized_all_ = std::make_unique<AddedTokenMatcher>();
  normalized_plain_ = std::make_unique<AddedTokenMatcher>();
  for (const auto& a : s.added_tokens) {
    const AddedTokenMatcher::Flags flags{a.lstrip, a.rstrip, a.single_word};
    if (a.normalized && !normalizer_->empty()) {
      const std::string content = normalizer_->apply(a.content);
      normalized_all_->add(content, a.id, flags);
      if (!a.special) normalized_plain_->add(content, a.id, flags);
    } else {
      added_all_->add(a.content, a.id, flags);
      if (!a.special) added_plain_->add(a.content, a.id, flags);
    }
  }

  // The model's vocabulary: HF specs say which ids it has; GGUF specs: every id that is not an
  // added token (user-defined ones are in both, as llama.cpp has them).
  const bool word_model = m == "wordpiece" || m == "wordlevel" || m == "unigram";
  std::vector<std::string> model_vocab(word_model ? n : 0);
  std::unordered_map<std::string_view, int32_t> bpe_vocab;
  if (!word_model) bpe_vocab.reserve(n);
  token_ids_.reserve(n);
  byte_token_value_.assign(n, 0);
  int32_t byte_ids[256];
  std::fill(std::begin(byte_ids), std::end(byte_ids), -1);
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int32_t>(i);
    const std::string& tok = s.tokens[i];
    token_ids_.emplace(tok, id);
    const int32_t type = s.token_types[i];
    const bool in_model = s.hf_pipeline ? (i < s.in_model_vocab.size() && s.in_model_vocab[i])
                                        : (type != kTypeControl && type != kTypeUnknown);
    const int b = byte_level_ ? -1 : token_strings::byte_fallback_value(tok);
    if (b >= 0 && (type == kTypeByte || (s.hf_pipeline && in_model))) {
      byte_token_value_[i] = static_cast<uint8_t>(b);
      if (byte_ids[b] < 0) byte_ids[b] = id;
      if (!s.hf_pipeline) continue;  // GGUF byte tokens are not merged
    } else if (type == kTypeByte && !byte_level_) {
      return CorruptData("tokenizer: byte token " + std::to_string(i) + " '" + tok +
                         "' is not of the form <0xXX>");
    }
    if (!in_model) continue;
    if (word_model) {
      model_vocab[i] = tok;
    } else {
      bpe_vocab.emplace(tok, id);
    }
  }

  if (m == "wordpiece") {
    STEMMA_ASSIGN_OR_RETURN(
        model_, WordPieceModel::create(model_vocab, s.unk_token, s.continuing_subword_prefix,
                                       s.max_input_chars_per_word));
    return OkStatus();
  }
  if (m == "wordlevel") {
    STEMMA_ASSIGN_OR_RETURN(model_, WordLevelModel::create(model_vocab, s.unk_token));
    return OkStatus();
  }
  if (m == "unigram") {
    std::vector<double> scores = s.unigram_scores;
    scores.resize(n, 0.0);
    STEMMA_ASSIGN_OR_RETURN(model_,
                            UnigramModel::create(model_vocab, scores, s.unk_id, s.byte_fallback));
    return OkStatus();
  }

  if (byte_level_) {
    std::fill(std::begin(byte_ids), std::end(byte_ids), -1);
    for (int b = 0; b < 256; ++b) {
      auto it = bpe_vocab.find(byte_level::encode_byte(static_cast<uint8_t>(b)));
      if (it != bpe_vocab.end()) {
        byte_ids[b] = it->second;
      } else if (!s.hf_pipeline) {
        return CorruptData("tokenizer: byte-level vocabulary has no token for byte " +
                           std::to_string(b) + " ('" +
                           byte_level::encode_byte(static_cast<uint8_t>(b)) + "')");
      }
    }
  }

  // Merges: explicit pairs ranked by position, or (SentencePiece without merges) every split of
  // a token into two tokens, ranked by the token's score.
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  std::string joined;
  auto add_merge = [&](std::string_view a, std::string_view b, int32_t rank) {
    auto ia = bpe_vocab.find(a);
    auto ib = bpe_vocab.find(b);
    if (ia == bpe_vocab.end() || ib == bpe_vocab.end()) return false;
    joined.assign(a);
    joined.append(b);
    auto merged = bpe_vocab.find(joined);
    if (merged == bpe_vocab.end()) return false;
    merges.emplace(BpeModel::pair_key(ia->second, ib->second),
                   std::make_pair(rank, merged->second));
    return true;
  };
  if (!s.merge_pairs.empty()) {
    merges.reserve(s.merge_pairs.size());
    for (size_t r = 0; r < s.merge_pairs.size(); ++r) {
      const auto& [a, b] = s.merge_pairs[r];
      if (!add_merge(a, b, static_cast<int32_t>(r))) {
        return CorruptData("tokenizer: merge " + std::to_string(r) + " ['" + a + "', '" + b +
                           "'] does not name two tokens whose concatenation is a token");
      }
    }
  } else if (!s.merges.empty()) {
    merges.reserve(s.merges.size());
    for (size_t r = 0; r < s.merges.size(); ++r) {
      const std::string& mg = s.merges[r];
      bool found = false;
      for (size_t sp = mg.find(' '); sp != std::string::npos && !found; sp = mg.find(' ', sp + 1)) {
        found = add_merge(std::string_view(mg).substr(0, sp), std::string_view(mg).substr(sp + 1),
                          static_cast<int32_t>(r));
      }
      if (!found) {
        return CorruptData("tokenizer: merge " + std::to_string(r) + " '" + mg +
                           "' does not name two tokens whose concatenation is a token");
      }
    }
  } else if (!byte_level_ && !s.scores.empty()) {
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
  } else if (!s.hf_pipeline) {
    return InvalidArgument(
        std::string("tokenizer: the ") + (byte_level_ ? "byte-level BPE" : "SentencePiece") +
        " vocabulary has no merges" + (byte_level_ ? "" : " and no scores") + " (cannot tokenize)");
  }

  BpeModel::Options bpe;
  bpe.byte_level = byte_level_;
  bpe.byte_fallback = !byte_level_ && (s.hf_pipeline ? s.byte_fallback : byte_ids[0] >= 0);
  bpe.fuse_unk = s.fuse_unk;
  bpe.unk_id = s.unk_id;
  bpe.ignore_merges = s.ignore_merges >= 0
                          ? s.ignore_merges == 1
                          : (byte_level_ && (s.pre == "llama-bpe" || s.pre == "llama3"));
  model_ = std::make_unique<BpeModel>(bpe, std::move(bpe_vocab), std::move(merges), byte_ids);
  return OkStatus();
}

void Tokenizer::encode_section(std::string_view text, bool at_input_start, bool parse_special,
                               std::vector<int32_t>* out) const {
  std::string normalized;
  if (!normalizer_->empty()) {
    normalized = normalizer_->apply(text);
    text = normalized;
  }
  thread_local std::vector<PreTokenizer::Piece> pieces;
  thread_local std::deque<std::string> storage;
  std::vector<AddedTokenMatcher::Section> local_sections;
  const AddedTokenMatcher& matcher = parse_special ? *normalized_all_ : *normalized_plain_;
  if (matcher.empty()) {
    local_sections.push_back({text, -1});
  } else {
    matcher.split(text, &local_sections);
  }
  for (const auto& sec : local_sections) {
    if (sec.token >= 0) {
      out->push_back(sec.token);
      continue;
    }
    pieces.clear();
    storage.clear();
    pre_tokenizer_->split(sec.text, at_input_start && sec.text.data() == text.data(), &pieces,
                          &storage);
    for (const auto& p : pieces) model_->encode_word(p.text, out);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw, const EncodeOptions& options) const {
  const std::string text = utf8::sanitize(raw);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_special) ids.insert(ids.end(), prefix_ids_.begin(), prefix_ids_.end());
  std::vector<AddedTokenMatcher::Section> sections;
  (options.parse_special ? added_all_ : added_plain_)->split(text, &sections);
  for (const auto& section : sections) {
    if (section.token >= 0) {
      ids.push_back(section.token);
    } else {
      encode_section(section.text, section.text.data() == text.data(), options.parse_special, &ids);
    }
  }
  if (options.add_special) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < vocab_size() && spec_.token_types[id] == kTypeControl;
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  auto it = token_ids_.find(token);
  return it == token_ids_.end() ? -1 : it->second;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  std::string out;
  if (id < 0 || id >= vocab_size()) return out;
  const std::string& tok = spec_.tokens[id];
  const int32_t type = spec_.token_types[id];
  if (type == kTypeControl || type == kTypeUserDefined || type == kTypeUnknown) {
    out = tok;  // added tokens are stored as their text
  } else if (byte_level_) {
    byte_level::decode(tok, &out);
  } else if (token_strings::byte_fallback_value(tok) >= 0 &&
             (type == kTypeByte || spec_.byte_fallback)) {
    out.push_back(static_cast<char>(byte_token_value_[id]));
  } else if (spec_.model == "wordpiece") {
    const std::string& prefix = spec_.continuing_subword_prefix;
    out = tok.compare(0, prefix.size(), prefix) == 0 ? tok.substr(prefix.size()) : " " + tok;
  } else {
    out = token_strings::replace_all(tok, kSpaceMark, " ");
  }
  return out;
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids,
                                      const DecodeOptions& options) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= vocab_size()) {
      return OutOfRange("decode: token id " + std::to_string(id) + " at position " +
                        std::to_string(i) + " is outside the vocabulary (" +
                        std::to_string(vocab_size()) + " tokens)");
    }
    if (options.skip_special && is_control(id)) continue;
    tokens.push_back(spec_.tokens[id]);
  }
  std::string text = decoder_->decode(std::move(tokens));
  if (options.clean_up_spaces) text = clean_up_tokenization_spaces(text);
  return text;
}

// A tail that still ends in U+FFFD after this many tokens is let out (a character spans at
// most 4 byte tokens; longer runs are invalid bytes, which could otherwise hold text forever).
constexpr size_t kMaxHeldTokens = 64;

Result<std::string> StreamDecoder::push(int32_t id) {
  if (id < 0 || id >= tokenizer_.vocab_size()) {
    return OutOfRange("stream decode: token id " + std::to_string(id) +
                      " is outside the vocabulary (" + std::to_string(tokenizer_.vocab_size()) +
                      " tokens)");
  }
  window_.push_back(id);
  STEMMA_ASSIGN_OR_RETURN(std::string text, tokenizer_.decode(window_, options_));
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  const bool incomplete = text.size() >= 3 && text.compare(text.size() - 3, 3, kReplacement) == 0 &&
                          window_.size() - prefix_index_ < kMaxHeldTokens;
  if (text.size() <= prefix_.size() || incomplete) return std::string();
  std::string out =
      text.compare(0, prefix_.size(), prefix_) == 0 ? text.substr(prefix_.size()) : text;
  const size_t new_prefix_index = window_.size() - prefix_index_;
  window_.erase(window_.begin(), window_.begin() + static_cast<long>(prefix_index_));
  STEMMA_ASSIGN_OR_RETURN(prefix_, tokenizer_.decode(window_, options_));
  prefix_index_ = new_prefix_index;
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  auto text = tokenizer_.decode(window_, options_);
  if (text.ok() && text->size() > prefix_.size()) {
    out = text->compare(0, prefix_.size(), prefix_) == 0 ? text->substr(prefix_.size()) : *text;
  }
  window_.clear();
  prefix_.clear();
  prefix_index_ = 0;
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
    s = token_strings::replace_all(s, from, to);
  }
  return s;
}

}  // namespace stemma
