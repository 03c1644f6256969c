#include "engine/tokenizer/added_token_matcher.h"

#include "engine/tokenizer/unicode.h"
#include "engine/tokenizer/utf8.h"

namespace stemma {
namespace {

// \w of Rust's regex crate, which HF's single_word check uses: alphabetic, marks, decimal
// digits, connector punctuation, joiners.
bool is_word_char(char32_t c) {
  const unicode::Category cat = unicode::category(c);
  return unicode::is_letter(c) || unicode::is_mark(c) || cat == unicode::Category::kNd ||
         cat == unicode::Category::kNl || cat == unicode::Category::kPc || c == 0x200C ||
         c == 0x200D;
}

// The code point that ends at `end` (the last one of text[0, end)).
char32_t last_char(std::string_view text, size_t end) {
  size_t p = end - 1;
  while (p > 0 && (static_cast<uint8_t>(text[p]) & 0xC0) == 0x80) --p;
  size_t len = 0;
  return utf8::decode(text, p, &len);
}

}  // namespace

void AddedTokenMatcher::add(std::string_view content, int32_t id, Flags flags) {
  if (content.empty()) return;
  int32_t node = 0;
  for (char c : content) {
    const auto b = static_cast<uint8_t>(c);
    auto it = nodes_[node].children.find(b);
    if (it == nodes_[node].children.end()) {
      nodes_.push_back(Node{});
      const auto child = static_cast<int32_t>(nodes_.size() - 1);
      nodes_[node].children.emplace(b, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  nodes_[node].token = id;
  nodes_[node].flags = flags;
  first_byte_[static_cast<uint8_t>(content[0])] = true;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Section>* out) const {
  size_t plain_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t node = 0, best_node = -1;
    size_t best_end = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = nodes_[node].children.find(static_cast<uint8_t>(text[i]));
      if (it == nodes_[node].children.end()) break;
      node = it->second;
      if (nodes_[node].token >= 0) {
        best_node = node;
        best_end = i + 1;
      }
    }
    if (best_node < 0) {
      ++pos;
      continue;
    }
    const Node& hit = nodes_[best_node];
    size_t start = pos, stop = best_end;
    if (hit.flags.single_word) {
      size_t len = 0;
      const bool word_before = start > 0 && is_word_char(last_char(text, start));
      const bool word_after = stop < text.size() && is_word_char(utf8::decode(text, stop, &len));
      if (word_before || word_after) {
        pos = best_end;  // not a single word: the text goes on after this match
        continue;
      }
    }
    if (hit.flags.lstrip) {
      while (start > plain_start && unicode::is_white_space(last_char(text, start))) {
        do {
          --start;
        } while (start > plain_start && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80);
      }
    }
    if (hit.flags.rstrip) {
      while (stop < text.size()) {
        size_t len = 0;
        if (!unicode::is_white_space(utf8::decode(text, stop, &len))) break;
        stop += len;
      }
    }
    if (start > plain_start) out->push_back({text.substr(plain_start, start - plain_start), -1});
    out->push_back({text.substr(start, stop - start), hit.token});
    pos = plain_start = stop;
  }
  if (plain_start < text.size()) out->push_back({text.substr(plain_start), -1});
}

}  // namespace stemma
