// `stemma logits --model PATH (--tokens 1,2,3 | --tokens-file FILE) [--rows 0,15,2047] [--top K]
// [--greedy N] [--threads T]`: runs the CPU forward pass over the token ids and prints
// {"logits": [[vocab floats] per position]}, or with --top K > 0
// {"top": [[{"id": i, "logit": x} K per position]]}, highest first. --tokens-file reads the ids
// from a file (separated by commas, spaces or newlines). --rows prints only those positions, in
// the order given, and adds {"rows": [...]}; the prompt is then prefilled in chunks ending at
// those positions and nothing after the last one is computed (see prompt_rows.h). --greedy N
// appends N argmax tokens after the prompt, one decode step at a time, and prints
// {"greedy": [ids], "greedy_margins": [top1 - top2 of the row each was chosen from]}; no logits
// are printed then unless --rows asks for them (a separate pass over the prompt).
#include <algorithm>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/json_text.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/backend/cpu/prompt_rows.h"
#include "engine/common/read_file.h"
#include "engine/model/model_loader.h"

namespace stemma::cli {
namespace {

// Token ids from --tokens or --tokens-file (exactly one of them).
Result<std::vector<int32_t>> read_tokens(const Args& args) {
  if (args.has("tokens") == args.has("tokens-file"))
    return InvalidArgument("give exactly one of --tokens 1,2,3 and --tokens-file FILE");
  if (auto text = args.get("tokens")) {
    auto tokens = Args::parse_int_list(*text);
    if (!tokens.ok()) return InvalidArgument("--tokens: " + tokens.status().message());
    return tokens;
  }
  const std::string path = *args.get("tokens-file");
  auto read = read_file_bounded(path);
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kResourceExhausted) {
      return read.status().with_context("--tokens-file");
    }
    return Status(read.status().code(),
                  "--tokens-file: cannot read '" + path + "' (" + read.status().message() + ")");
  }
  std::string text = std::move(read).value();
  // Commas, spaces and newlines all separate ids.
  std::replace_if(
      text.begin(), text.end(), [](char ch) { return ch == ','; }, ' ');
  std::istringstream items(text);
  std::vector<std::string> parts;
  for (std::string item; items >> item;) parts.push_back(item);
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) joined += (i ? "," : "") + parts[i];
  if (joined.empty()) return InvalidArgument("--tokens-file: '" + path + "' holds no token ids");
  auto tokens = Args::parse_int_list(joined);
  if (!tokens.ok())
    return InvalidArgument("--tokens-file '" + path + "': " + tokens.status().message());
  return tokens;
}

// One printed row: the whole vocabulary, or its `top` highest entries.
nlohmann::json row_json(const float* row, size_t vocab, int64_t top) {
  if (top <= 0) return std::vector<float>(row, row + vocab);
  std::vector<int32_t> ids(vocab);
  std::iota(ids.begin(), ids.end(), 0);
  const size_t k = std::min(vocab, static_cast<size_t>(top));
  std::partial_sort(
      ids.begin(), ids.begin() + static_cast<ptrdiff_t>(k), ids.end(),
      [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
  nlohmann::json entries = nlohmann::json::array();
  for (size_t i = 0; i < k; ++i) entries.push_back({{"id", ids[i]}, {"logit", row[ids[i]]}});
  return entries;
}

int run_logits(const Args& args) {
  try {
    auto path = args.require("model");
    if (!path.ok()) return fail(path.status());
    auto tokens = read_tokens(args);
    if (!tokens.ok()) return fail(tokens.status());
    if (tokens->empty()) return fail(InvalidArgument("--tokens: no token ids"));
    auto top = args.get_int("top", 0);
    if (!top.ok()) return fail(top.status());
    auto threads = args.get_int("threads", 0);
    if (!threads.ok()) return fail(threads.status());
    auto greedy = args.get_int("greedy", 0);
    if (!greedy.ok()) return fail(greedy.status());
    if (*greedy < 0 || *greedy > 1000000)
      return fail(InvalidArgument("--greedy: " + std::to_string(*greedy) + " tokens (0 to 1e6)"));
    std::vector<int64_t> rows;
    if (auto text = args.get("rows")) {
      auto list = Args::parse_int_list(*text);
      if (!list.ok()) return fail(InvalidArgument("--rows: " + list.status().message()));
      for (int32_t r : *list) {
        if (r < 0 || static_cast<size_t>(r) >= tokens->size()) {
          return fail(OutOfRange("--rows: position " + std::to_string(r) +
                                 " is outside the prompt of " + std::to_string(tokens->size()) +
                                 " tokens"));
        }
        rows.push_back(r);
      }
    }

    auto loaded = load_model(*path);
    if (!loaded.ok()) return fail(loaded.status());
    auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());
    KvCacheShape kv;
    kv.page_size = 16;
    kv.num_pages = (static_cast<int64_t>(tokens->size()) + *greedy + 15) / 16;
    auto ex = cpu::CpuExecutor::create(model, kv, static_cast<int>(*threads));
    if (!ex.ok()) return fail(ex.status());

    const size_t vocab = static_cast<size_t>(model->config.vocab_size);
    const char* key = *top > 0 ? "top" : "logits";
    nlohmann::json printed = nlohmann::json::array();
    nlohmann::json result = nlohmann::json::object();
    if (*greedy > 0) {
      auto out = cpu::greedy_generate(**ex, *tokens, static_cast<int>(*greedy));
      if (!out.ok()) return fail(out.status());
      result["greedy"] = out->tokens;
      result["greedy_margins"] = out->margins;
      if (rows.empty()) {
        std::cout << json_text(result) << "\n";
        return 0;
      }
    }
    if (rows.empty()) {
      auto out = cpu::greedy_generate(**ex, *tokens, 0, 0, /*keep_prompt_logits=*/true);
      if (!out.ok()) return fail(out.status());
      for (size_t p = 0; p < tokens->size(); ++p)
        printed.push_back(row_json(out->prompt_logits.data() + p * vocab, vocab, *top));
      std::cout << json_text(nlohmann::json{{key, std::move(printed)}}) << "\n";
      return 0;
    }
    auto out = cpu::prompt_logits_rows(**ex, *tokens, rows);
    if (!out.ok()) return fail(out.status());
    for (size_t r = 0; r < rows.size(); ++r)
      printed.push_back(row_json(out->data() + r * vocab, vocab, *top));
    result["rows"] = rows;
    result[key] = std::move(printed);
    std::cout << json_text(result) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(std::string("logits: ") + e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterLogits, "logits",
                   "print the model's logits for token ids (CPU): --model PATH, --tokens 1,2,3 | "
                   "--tokens-file FILE [--rows 0,15] [--top K] [--greedy N] [--threads T]",
                   &run_logits, {},
                   {"greedy", "model", "rows", "threads", "tokens", "tokens-file", "top"});

}  // namespace stemma::cli
