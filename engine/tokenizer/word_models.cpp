#include "engine/tokenizer/word_models.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

detail::StringIdMap index_vocab(const std::vector<std::string>& vocab) {
  detail::StringIdMap m;
  m.reserve(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (!vocab[i].empty()) m.emplace(vocab[i], static_cast<int32_t>(i));
  }
  return m;
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

Result<std::unique_ptr<WordPieceModel>> WordPieceModel::create(
    const std::vector<std::string>& vocab, const std::string& unk_token, std::string prefix,
    int max_chars) {
  auto m = std::make_unique<WordPieceModel>();
  m->vocab_ = index_vocab(vocab);
  auto it = m->vocab_.find(unk_token);
  if (it == m->vocab_.end()) {
    return InvalidArgument("WordPiece: the unknown token '" + unk_token +
                           "' is not in the vocabulary");
  }
  m->unk_id_ = it->second;
  m->prefix_ = std::move(prefix);
  m->max_chars_ = max_chars;
  return m;
}

void WordPieceModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (char_count(word) > static_cast<size_t>(max_chars_)) {
    out->push_back(unk_id_);
    return;
  }
  const size_t mark = out->size();
  std::string candidate;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    int32_t found = -1;
    while (start < end) {
      candidate.clear();
      if (start > 0) candidate = prefix_;
      candidate.append(word.substr(start, end - start));
      auto it = vocab_.find(candidate);
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
      // Drop the last character.
      do {
        --end;
      } while (end > start && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {
      out->resize(mark);
      out->push_back(unk_id_);
      return;
    }
    out->push_back(found);
    start = end;
  }
}

Result<std::unique_ptr<UnigramModel>> UnigramModel::create(const std::vector<std::string>& pieces,
                                                           const std::vector<double>& scores,
                                                           int32_t unk_id, bool byte_fallback) {
  if (pieces.size() != scores.size()) {
    return InvalidArgument("Unigram: " + std::to_string(scores.size()) + " scores for " +
                           std::to_string(pieces.size()) + " pieces");
  }
  if (unk_id < 0 || unk_id >= static_cast<int32_t>(pieces.size())) {
    // HF loads such a model but fails at encode time on the first character with no piece.
    return Unsupported(
        "Unigram model without a valid unk_id (HF cannot encode unknown "
        "characters with it)");
  }
  auto m = std::make_unique<UnigramModel>();
  m->scores_ = scores;
  m->unk_id_ = unk_id;
  m->byte_fallback_ = byte_fallback;
  std::fill(std::begin(m->byte_ids_), std::end(m->byte_ids_), -1);
  m->min_score_ = std::numeric_limits<double>::max();
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& p = pieces[i];
    m->min_score_ = std::min(m->min_score_, scores[i]);
    if (p.empty()) continue;
    for (size_t n = 1; n < p.size(); ++n) m->prefixes_.emplace(p.substr(0, n), -1);
    m->prefixes_[p] = static_cast<int32_t>(i);
    if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') {
      unsigned v = 0;
      if (std::sscanf(p.c_str() + 3, "%2X", &v) == 1)
        m->byte_ids_[v & 0xFF] = static_cast<int32_t>(i);
    }
  }
  if (pieces.empty()) m->min_score_ = 0;
  return m;
}

void UnigramModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  constexpr double kUnkPenalty = 10.0;
  const double unk_score = min_score_ - kUnkPenalty;
  struct Node {
    int32_t id = -1;
    double score = 0;
    long starts_at = -1;
  };
  const size_t n = word.size();
  std::vector<Node> best(n + 1);
  best[0].starts_at = 0;
  for (size_t start = 0; start < n;) {
    const double here = best[start].score;
    size_t mblen = 0;
    utf8::decode(word, start, &mblen);
    bool single = false;
    for (size_t end = start + 1; end <= n; ++end) {
      auto it = prefixes_.find(word.substr(start, end - start));
      if (it == prefixes_.end()) break;
      if (it->second < 0) continue;
      const double candidate = scores_[it->second] + here;
      Node& target = best[end];
      if (target.starts_at < 0 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<long>(start);
        target.id = it->second;
      }
      if (end - start == mblen) single = true;
    }
    if (!single) {
      Node& target = best[start + mblen];
      const double candidate = unk_score + here;
      if (target.starts_at < 0 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<long>(start);
        target.id = unk_id_;
      }
    }
    start += mblen;
  }
  // Walk back; runs of unknown characters fuse into one piece (HF's fuse_unk, always on).
  struct Span {
    size_t begin, end;
    bool unk;
    int32_t id;
  };
  std::vector<Span> spans;
  for (size_t end = n; end > 0;) {
    const Node& node = best[end];
    const auto begin = static_cast<size_t>(node.starts_at);
    const bool unk = node.id == unk_id_;
    if (unk && !spans.empty() && spans.back().unk) {
      spans.back().begin = begin;
    } else {
      spans.push_back({begin, end, unk, node.id});
    }
    end = begin;
  }
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (!it->unk) {
      out->push_back(it->id);
      continue;
    }
    // An unknown run: HF looks its text up as a piece, then tries byte fallback, then unk.
    const std::string_view text = word.substr(it->begin, it->end - it->begin);
    auto found = prefixes_.find(text);
    if (found != prefixes_.end() && found->second >= 0) {
      out->push_back(found->second);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : text) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : text) out->push_back(byte_ids_[static_cast<uint8_t>(c)]);
        continue;
      }
    }
    out->push_back(unk_id_);
  }
}

Result<std::unique_ptr<WordLevelModel>> WordLevelModel::create(
    const std::vector<std::string>& vocab, const std::string& unk_token) {
  auto m = std::make_unique<WordLevelModel>();
  m->vocab_ = index_vocab(vocab);
  auto it = m->vocab_.find(unk_token);
  m->unk_id_ = it == m->vocab_.end() ? -1 : it->second;
  return m;
}

void WordLevelModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  auto it = vocab_.find(word);
  if (it != vocab_.end()) {
    out->push_back(it->second);
  } else if (unk_id_ >= 0) {
    out->push_back(unk_id_);
  }
}

}  // namespace stemma
