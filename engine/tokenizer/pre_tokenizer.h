// The pre-tokenizer of an HF tokenizer pipeline: a sequence of steps that split a normalized
// section of text into the pieces the model encodes one at a time. Split (a string or regex
// pattern, every HF behavior, invert), Digits, Punctuation, Whitespace, WhitespaceSplit,
// BertPreTokenizer, CharDelimiterSplit, Metaspace and ByteLevel, with HF's semantics.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "engine/tokenizer/pipeline_spec.h"
#include "engine/tokenizer/regex_splitter.h"

namespace stemma {

class PreTokenizer {
 public:
  static Result<std::unique_ptr<PreTokenizer>> create(const std::vector<PreTokenizerSpec>& steps);
  ~PreTokenizer();

  struct Piece {
    std::string_view text;
    bool at_input_start;  // begins at offset 0 of the whole input (Metaspace's "first")
  };
  // Splits `text` into pieces (none empty), appended to `pieces`. Text that steps create (a
  // prepended space or "▁") lives in `storage`, which must outlive the pieces.
  void split(std::string_view text, bool at_input_start, std::vector<Piece>* pieces,
             std::deque<std::string>* storage) const;

  // A ByteLevel step is present: pieces are raw bytes the model maps through GPT-2's table.
  bool byte_level() const { return byte_level_; }

 private:
  PreTokenizer() = default;
  struct Step {
    PreTokenizerSpec spec;
    std::unique_ptr<RegexSplitter> regex;
  };
  void run_step(const Step& step, const std::vector<Piece>& in, std::vector<Piece>* out,
                std::deque<std::string>* storage) const;
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

}  // namespace stemma
