// The test corpus: an invented router's manual (three markdown files) and its FAQ (JSON).
#pragma once

#include <fstream>
#include <iterator>
#include <string>

namespace stemma::rag::testing {

inline std::string corpus_path(const std::string& name) {
  return std::string(STEMMA_SOURCE_DIR) + "/tests/sdk/rag/corpus/" + name;
}

inline std::string read_corpus(const std::string& name) {
  std::ifstream in(corpus_path(name), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace stemma::rag::testing
