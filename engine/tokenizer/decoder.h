// The decoder of an HF tokenizer pipeline: token strings -> text, through a chain of steps
// (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, WordPiece, BPEDecoder, CTC), each
// mapping the list of token strings to a new list the way HF's decode_chain does; the result
// is the list joined. With no decoder at all the tokens are joined with spaces (HF's default).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/tokenizer/pipeline_spec.h"

namespace re2 {
class RE2;
}

namespace stemma {

class Decoder {
 public:
  // `present` false: the tokenizer has no decoder (tokens are joined with " ").
  static Result<std::unique_ptr<Decoder>> create(const std::vector<DecoderSpec>& steps,
                                                 bool present);
  ~Decoder();

  // The text of `tokens` (well-formed UTF-8: invalid byte runs become U+FFFD as HF has it).
  std::string decode(std::vector<std::string> tokens) const;

  const std::vector<DecoderSpec>& steps() const { return specs_; }

 private:
  Decoder() = default;
  std::vector<DecoderSpec> specs_;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;  // per step (Replace with a regex)
  bool present_ = true;
};

// The WordPiece/CTC decoders' cleanup (HF's Rust one, which also turns " do not" into
// " don't").
std::string wordpiece_cleanup(std::string_view text);

}  // namespace stemma
