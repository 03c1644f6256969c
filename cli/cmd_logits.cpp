// `stemma logits --model PATH --tokens 1,2,3 [--top K] [--threads T]`: runs the CPU forward pass
// over the token ids and prints {"logits": [[vocab floats] per position]}, or with --top K > 0
// {"top": [[{"id": i, "logit": x} K per position]]}, highest first.
#include <algorithm>
#include <iostream>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/model/model_loader.h"

namespace stemma::cli {
namespace {

int run_logits(const Args& args) {
  try {
    auto path = args.require("model");
    if (!path.ok()) return fail(path.status());
    auto tokens_text = args.require("tokens");
    if (!tokens_text.ok()) return fail(tokens_text.status());
    auto tokens = Args::parse_int_list(*tokens_text);
    if (!tokens.ok()) return fail(tokens.status());
    if (tokens->empty()) return fail(InvalidArgument("--tokens: no token ids"));
    auto top = args.get_int("top", 0);
    if (!top.ok()) return fail(top.status());
    auto threads = args.get_int("threads", 0);
    if (!threads.ok()) return fail(threads.status());

    auto loaded = load_model(*path);
    if (!loaded.ok()) return fail(loaded.status());
    auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
    KvCacheShape kv;
    kv.page_size = 16;
    kv.num_pages = (static_cast<int64_t>(tokens->size()) + 15) / 16;
    auto ex = cpu::CpuExecutor::create(model, kv, static_cast<int>(*threads));
    if (!ex.ok()) return fail(ex.status());
    auto out = cpu::greedy_generate(**ex, *tokens, 0, 0, /*keep_prompt_logits=*/true);
    if (!out.ok()) return fail(out.status());

    const size_t vocab = static_cast<size_t>(model->config.vocab_size);
    const std::vector<float>& logits = out->prompt_logits;
    nlohmann::json rows = nlohmann::json::array();
    for (size_t p = 0; p < tokens->size(); ++p) {
      const float* row = logits.data() + p * vocab;
      if (*top > 0) {
        std::vector<int32_t> ids(vocab);
        std::iota(ids.begin(), ids.end(), 0);
        const size_t k = std::min(vocab, static_cast<size_t>(*top));
        std::partial_sort(
            ids.begin(), ids.begin() + static_cast<ptrdiff_t>(k), ids.end(),
            [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
        nlohmann::json entries = nlohmann::json::array();
        for (size_t i = 0; i < k; ++i) entries.push_back({{"id", ids[i]}, {"logit", row[ids[i]]}});
        rows.push_back(std::move(entries));
      } else {
        rows.push_back(std::vector<float>(row, row + vocab));
      }
    }
    std::cout << nlohmann::json{{*top > 0 ? "top" : "logits", std::move(rows)}}.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(std::string("logits: ") + e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterLogits, "logits", "print the model's logits for token ids (CPU)",
                   &run_logits, {});

}  // namespace stemma::cli
