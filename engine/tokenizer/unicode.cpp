// Normalization forms (decompose, order by combining class, recompose for C forms), category
// lookups (binary search over ranges) and lowercase mappings, over generated tables.
#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/tokenizer/utf8.h"

namespace stemma::unicode {
namespace {

struct CccRange {
  char32_t first;
  char32_t last;
  uint8_t ccc;
};
struct Decomposition {
  char32_t cp;
  uint8_t compat;  // a compatibility decomposition (NFKC/NFKD only)
  uint8_t count;
  uint16_t offset;  // into kDecompositionParts
};
struct Composition {
  char32_t first;
  char32_t second;
  char32_t composite;
};
struct CategoryRange {
  char32_t first;
  char32_t last;
  uint8_t category;
};
struct Lowercase {
  char32_t cp;
  uint8_t count;
  char32_t parts[2];
};

#include "engine/tokenizer/unicode_tables.inc"

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
              kSCount = kLCount * kNCount;

uint8_t combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  auto it = std::upper_bound(std::begin(kCccRanges), std::end(kCccRanges), cp,
                             [](char32_t c, const CccRange& r) { return c < r.first; });
  if (it == std::begin(kCccRanges)) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

struct Tables {
  std::unordered_map<char32_t, const Decomposition*> decomp;
  std::unordered_map<uint64_t, char32_t> comp;
  std::unordered_map<char32_t, const Lowercase*> lower;
  // Per code point: may it change under the canonical forms (bit 0) or the compatibility
  // forms (bit 1), whatever surrounds it? (a combining mark, a decomposable character, the
  // second of a composing pair, jamo, Hangul)
  std::vector<uint8_t> unstable;
  Tables() : unstable(0x110000, 0) {
    for (const auto& d : kDecompositions) {
      decomp[d.cp] = &d;
      unstable[d.cp] |= d.compat ? 2 : 3;
    }
    for (const auto& c : kCompositions) {
      comp[(static_cast<uint64_t>(c.first) << 32) | c.second] = c.composite;
      unstable[c.second] |= 3;
    }
    for (const auto& r : kCccRanges) {
      for (char32_t cp = r.first; cp <= r.last; ++cp) unstable[cp] |= 3;
    }
    for (char32_t cp = 0x1100; cp < 0x1200; ++cp) unstable[cp] |= 3;  // conjoining jamo
    for (char32_t cp = kSBase; cp < kSBase + kSCount; ++cp) unstable[cp] |= 3;
    for (const auto& l : kLowercase) lower[l.cp] = &l;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

void decompose(char32_t cp, bool compat, std::vector<char32_t>* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const int s = static_cast<int>(cp - kSBase);
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const auto& t = tables();
  auto it = t.decomp.find(cp);
  if (it == t.decomp.end() || (it->second->compat && !compat)) {
    out->push_back(cp);
    return;
  }
  for (int i = 0; i < it->second->count; ++i) {
    decompose(kDecompositionParts[it->second->offset + i], compat, out);
  }
}

char32_t compose_pair(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const auto& t = tables();
  auto it = t.comp.find((static_cast<uint64_t>(a) << 32) | b);
  return it == t.comp.end() ? 0 : it->second;
}

}  // namespace

std::string normalize(std::string_view text, Form form) {
  const bool compat = form == Form::kNfkc || form == Form::kNfkd;
  const bool compose = form == Form::kNfc || form == Form::kNfkc;
  const uint8_t bit = compat ? 2 : 1;
  const auto& t = tables();
  bool all_stable = true;
  for (size_t pos = 0; pos < text.size() && all_stable;) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t len = 0;
    const char32_t cp = utf8::decode(text, pos, &len);
    all_stable = cp >= 0x110000 || (t.unstable[cp] & bit) == 0;
    pos += len;
  }
  if (all_stable) return std::string(text);

  std::vector<char32_t> cps;
  cps.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    decompose(utf8::decode(text, pos, &len), compat, &cps);
    pos += len;
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < cps.size();) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + i, cps.begin() + j, [](char32_t a, char32_t b) {
      return combining_class(a) < combining_class(b);
    });
    i = j;
  }
  std::vector<char32_t> out;
  if (!compose) {
    out.swap(cps);
  } else {
    out.reserve(cps.size());
    long starter = -1;  // index in `out` of the last starter
    int last_ccc = -1;
    for (char32_t cp : cps) {
      const int ccc = combining_class(cp);
      if (starter >= 0) {
        // Blocked when a character in between has a class >= ours (or is a starter).
        const bool blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= ccc);
        if (!blocked) {
          const char32_t c = compose_pair(out[starter], cp);
          if (c != 0) {
            out[starter] = c;
            continue;
          }
        }
      }
      if (ccc == 0) {
        starter = static_cast<long>(out.size());
        last_ccc = -1;
      } else {
        last_ccc = ccc;
      }
      out.push_back(cp);
    }
  }
  std::string result;
  result.reserve(text.size() + text.size() / 4);
  for (char32_t cp : out) utf8::append(&result, cp);
  return result;
}

Category category(char32_t cp) {
  auto it = std::upper_bound(std::begin(kCategoryRanges), std::end(kCategoryRanges), cp,
                             [](char32_t c, const CategoryRange& r) { return c < r.first; });
  if (it == std::begin(kCategoryRanges)) return Category::kCn;
  --it;
  return cp <= it->last ? static_cast<Category>(it->category) : Category::kCn;
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return category(cp) <= Category::kLo;
}
bool is_mark(char32_t cp) {
  const Category c = category(cp);
  return c >= Category::kMn && c <= Category::kMe;
}
bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  const Category c = category(cp);
  return c >= Category::kNd && c <= Category::kNo;
}
bool is_punctuation(char32_t cp) {
  const Category c = category(cp);
  return c >= Category::kPc && c <= Category::kPo;
}
bool is_other(char32_t cp) {
  return category(cp) >= Category::kCc;
}
bool is_white_space(char32_t c) {
  return c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r' || c == ' ' || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

void append_lowercase(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    return;
  }
  const auto& t = tables();
  auto it = t.lower.find(cp);
  if (it == t.lower.end()) {
    utf8::append(out, cp);
    return;
  }
  for (int i = 0; i < it->second->count; ++i) utf8::append(out, it->second->parts[i]);
}

}  // namespace stemma::unicode
