// The parts of an HF tokenizer.json pipeline around the model, as data: normalizers,
// pre-tokenizers, decoders and added tokens. hf_tokenizer_json.cpp fills them from the file;
// Tokenizer::create builds the running pipeline from them (or, for GGUF specs that carry none,
// from TokenizerSpec's `pre`, `pre_regex`, `normalizer` and `add_space_prefix`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stemma {

// How a Split-like step treats the pieces its pattern matches (HF's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Where Metaspace puts its "▁" (HF's PrependScheme).
enum class PrependScheme { kAlways, kFirst, kNever };

struct NormalizerSpec {
  enum class Kind {
    kNfc,
    kNfd,
    kNfkc,
    kNfkd,
    kLowercase,
    kReplace,       // pattern (a string or a regex) -> content
    kPrepend,       // content before non-empty text
    kStrip,         // white space at the left and/or right
    kStripAccents,  // removes combining marks (Mn)
    kBert,          // BertNormalizer: clean text, pad CJK, strip accents, lowercase
  };
  Kind kind = Kind::kNfc;
  std::string pattern;
  bool regex = false;
  std::string content;
  bool left = false, right = false;
  bool clean_text = true, handle_chinese_chars = true, lowercase = true;
  int strip_accents = -1;  // -1: as `lowercase`
};

struct PreTokenizerSpec {
  enum class Kind {
    kSplit,            // pattern (string or regex), behavior, invert
    kDigits,           // numbers isolated (individual) or contiguous
    kByteLevel,        // add_prefix_space, use_regex (the GPT-2 regex); bytes -> chars
    kMetaspace,        // spaces -> replacement, prepend scheme, split before each replacement
    kPunctuation,      // behavior
    kWhitespace,       // \w+|[^\w\s]+
    kWhitespaceSplit,  // split on white space, removed
    kBert,             // white space removed, punctuation isolated
    kCharDelimiter,    // content is the delimiter, removed
  };
  Kind kind = Kind::kSplit;
  std::string pattern;
  bool regex = false;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool individual_digits = false;
  bool add_prefix_space = false;
  bool use_regex = true;
  std::string replacement = "\xE2\x96\x81";  // "▁"
  PrependScheme prepend_scheme = PrependScheme::kAlways;
  bool split = true;
};

struct DecoderSpec {
  enum class Kind {
    kByteLevel,     // GPT-2 chars -> bytes (a token with a char outside the map stays as is)
    kReplace,       // pattern -> content in each token
    kByteFallback,  // runs of <0xXX> -> their bytes
    kFuse,          // all tokens into one
    kStrip,         // up to `start` leading / `stop` trailing `content` chars per token
    kMetaspace,     // replacement -> ' ', the first token's leading space dropped
    kWordPiece,     // prefix joins, others get a space; cleanup
    kBpe,           // suffix -> ' ' (nothing on the last token)
    kCtc,           // dedup, pad removed, word delimiter -> ' ', cleanup
  };
  Kind kind = Kind::kByteLevel;
  std::string pattern;
  bool regex = false;
  std::string content;
  int start = 0, stop = 0;
  std::string replacement = "\xE2\x96\x81";
  PrependScheme prepend_scheme = PrependScheme::kAlways;
  std::string prefix = "##";  // WordPiece prefix, BPE suffix, CTC pad token
  std::string word_delimiter = "|";
  bool cleanup = true;
};

// An added token of tokenizer.json (matched in the text before the model runs).
struct AddedTokenSpec {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false;
  bool normalized = false;
};

}  // namespace stemma
