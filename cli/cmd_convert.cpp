// `stemma convert --model PATH --out FILE.gguf [--type q8_0] [--name NAME]`: write a GGUF.
// `--dummy CONFIG.json [--seed N] [--init benchmark|reference]` instead of --model writes seeded
// random weights at real shapes. `--format hf` (with --dummy) writes an HF folder instead:
// --out DIR gets CONFIG.json verbatim and model.safetensors (--type f32, f16 or bf16).
// --placeholder-vocab writes a placeholder vocabulary (placeholder_tokenizer) into a GGUF whose
// source has no tokenizer (--dummy, generated HF folders), so that llama.cpp loads the file.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/json_text.h"
#include "engine/common/read_file.h"
#include "engine/model/gguf_convert.h"
#include "engine/model/hf_config.h"
#include "engine/model/hf_export.h"
#include "engine/model/model_loader.h"

namespace stemma::cli {
namespace {

int run_convert(const Args& args) {
  try {
    auto out = args.require("out");
    if (!out.ok()) return fail(out.status());
    std::string type_name = args.get_or("type", "q8_0");
    auto type = dtype_from_name(type_name);
    if (!type) {
      return fail(InvalidArgument("unknown --type '" + type_name +
                                  "' (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)"));
    }
    if (args.has("tokenizer-json")) {
      return fail(
          Unsupported("--tokenizer-json needs the tokenizer module's reader (not yet wired)"));
    }
    auto t0 = std::chrono::steady_clock::now();
    Result<LoadedModel> model = InvalidArgument("give --model PATH or --dummy CONFIG.json");
    std::string source;
    const std::string format = args.get_or("format", "gguf");
    if (format != "gguf" && format != "hf") {
      return fail(InvalidArgument("unknown --format '" + format + "' (gguf, hf)"));
    }
    const std::string init_name = args.get_or("init", "benchmark");
    if (init_name != "benchmark" && init_name != "reference") {
      return fail(InvalidArgument("unknown --init '" + init_name + "' (benchmark, reference)"));
    }
    const DummyInit init = init_name == "reference" ? DummyInit::kReference : DummyInit::kBenchmark;
    std::string config_text;
    if (format == "hf" && !args.has("dummy")) {
      return fail(InvalidArgument("--format hf writes generated models: give --dummy CONFIG.json"));
    }
    if (auto dummy = args.get("dummy")) {
      // Seeded random weights at the config's shapes, generated in F32 and encoded once.
      auto text = read_file_bounded(*dummy);
      if (!text.ok()) return fail(text.status());
      config_text = std::move(text).value();
      auto config = parse_hf_config(config_text, *dummy);
      if (!config.ok()) return fail(config.status());
      auto seed = args.get_int("seed", 1);
      if (!seed.ok()) return fail(seed.status());
      model = make_dummy_model(*config, DType::kF32, static_cast<uint64_t>(*seed), init);
      source = *dummy;
    } else if (auto path = args.get("model")) {
      model = load_model(*path);
      source = *path;
    }
    if (!model.ok()) return fail(model.status());
    if (format == "hf") {
      Status st = export_hf_folder(*model, *out, *type, config_text);
      if (!st.ok()) return fail(st);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << json_text({{"out", *out}, {"type", dtype_name(*type)}, {"seconds", secs}}, 2)
                << "\n";
      return 0;
    }
    ConvertOptions opt;
    opt.type = *type;
    opt.name = args.get_or("name", std::filesystem::path(source).filename().string());
    if (args.has("placeholder-vocab")) {
      if (model->tokenizer) {
        return fail(InvalidArgument("--placeholder-vocab: '" + source +
                                    "' has its own tokenizer; it would be replaced"));
      }
      opt.tokenizer = placeholder_tokenizer(model->config.vocab_size);
    }
    Status st = convert_to_gguf(*model, *out, opt);
    if (!st.ok()) return fail(st);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    nlohmann::json j = {{"out", *out},
                        {"type", dtype_name(*type)},
                        {"bytes", std::filesystem::file_size(*out, ec)},
                        {"seconds", secs}};
    std::cout << json_text(j, 2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterConvert, "convert",
                   "write a GGUF: --model PATH | --dummy CONFIG.json [--seed N] [--init "
                   "benchmark|reference], --out FILE.gguf [--type q8_0] [--name NAME] "
                   "[--placeholder-vocab]; --format hf --out DIR writes config.json + "
                   "model.safetensors (f32, f16, bf16)",
                   &run_convert, {"placeholder-vocab"},
                   {"dummy", "format", "init", "model", "name", "out", "seed", "tokenizer-json",
                    "type"});

}  // namespace stemma::cli
