// The normalizer of an HF tokenizer pipeline: a sequence of steps (NFC/NFD/NFKC/NFKD,
// Lowercase, Replace, Prepend, Strip, StripAccents, BertNormalizer) applied to each section of
// text between added tokens, before pre-tokenization.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "engine/tokenizer/pipeline_spec.h"

namespace re2 {
class RE2;
}

namespace stemma {

class Normalizer {
 public:
  static Result<std::unique_ptr<Normalizer>> create(const std::vector<NormalizerSpec>& steps);
  ~Normalizer();

  bool empty() const { return steps_.empty(); }
  // `text` after every step (well-formed UTF-8 in and out).
  std::string apply(std::string_view text) const;

 private:
  Normalizer() = default;
  struct Step {
    NormalizerSpec spec;
    std::unique_ptr<re2::RE2> re;  // Replace with a regex pattern
  };
  std::vector<Step> steps_;
};

}  // namespace stemma
