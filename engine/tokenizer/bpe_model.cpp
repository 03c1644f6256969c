#include "engine/tokenizer/bpe_model.h"

#include <queue>

#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/utf8.h"

namespace stemma {

BpeModel::BpeModel(Options options, std::unordered_map<std::string_view, int32_t> vocab,
                   std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges,
                   const int32_t (&byte_ids)[256])
    : options_(options), vocab_(std::move(vocab)), merges_(std::move(merges)) {
  for (int i = 0; i < 256; ++i) byte_ids_[i] = byte_ids[i];
}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>* symbols) const {
  // A character (or, byte-level, a byte) with no token: byte fallback, else the unknown token
  // (consecutive ones fused when fuse_unk), else nothing (HF drops it).
  bool last_unk = false;
  auto unknown = [&] {
    if (options_.unk_id < 0) return;
    if (options_.fuse_unk && last_unk) return;
    symbols->push_back(options_.unk_id);
    last_unk = true;
  };
  if (options_.byte_level) {
    for (char c : word) {
      const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
      if (id >= 0) {
        symbols->push_back(id);
        last_unk = false;
      } else {
        unknown();
      }
    }
    return;
  }
  for (size_t pos = 0; pos < word.size();) {
    size_t len = 0;
    utf8::decode(word, pos, &len);
    auto it = vocab_.find(word.substr(pos, len));
    if (it != vocab_.end()) {
      symbols->push_back(it->second);
      last_unk = false;
    } else {
      bool all_bytes = options_.byte_fallback;
      for (size_t i = 0; i < len && all_bytes; ++i) {
        all_bytes = byte_ids_[static_cast<uint8_t>(word[pos + i])] >= 0;
      }
      if (all_bytes) {
        for (size_t i = 0; i < len; ++i) {
          symbols->push_back(byte_ids_[static_cast<uint8_t>(word[pos + i])]);
        }
        last_unk = false;
      } else {
        unknown();
      }
    }
    pos += len;
  }
}

void BpeModel::merge(std::vector<int32_t>* symbols) const {
  const size_t n = symbols->size();
  if (n < 2) return;
  std::vector<int32_t>& id = *symbols;
  std::vector<int32_t> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Candidate {
    int32_t rank;
    int32_t left;  // position of the left symbol
    int32_t left_id;
    int32_t right_id;
    int32_t merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;  // lowest rank, then leftmost
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = next[left];
    if (right < 0 || id[left] < 0 || id[right] < 0) return;
    auto it = merges_.find(pair_key(id[left], id[right]));
    if (it == merges_.end()) return;
    heap.push({it->second.first, left, id[left], id[right], it->second.second});
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i));
  std::vector<bool> dead(n, false);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    const int32_t right = next[c.left];
    if (dead[c.left] || right < 0 || id[c.left] != c.left_id || id[right] != c.right_id) {
      continue;  // stale: a neighbour was merged since this pair was pushed
    }
    id[c.left] = c.merged;
    dead[right] = true;
    next[c.left] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.left;
    consider(prev[c.left]);
    consider(c.left);
  }
  size_t w = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) id[w++] = id[i];
  id.resize(w);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kMaxCachedWord;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> symbols;
  bool whole = false;
  if (options_.ignore_merges) {
    // The vocabulary is keyed by the byte-mapped text for byte-level models.
    const std::string mapped = options_.byte_level ? byte_level::encode(word) : std::string();
    auto it = vocab_.find(options_.byte_level ? std::string_view(mapped) : word);
    if (it != vocab_.end()) {
      symbols.push_back(it->second);
      whole = true;
    }
  }
  if (!whole) {
    symbols.reserve(word.size());
    initial_symbols(word, &symbols);
    merge(&symbols);
  }
  out->insert(out->end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(word), std::move(symbols));
  }
}

}  // namespace stemma
