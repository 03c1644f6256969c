// `stemma info --model PATH | --dummy CONFIG.json [--type q8_0]`: a model's shape as JSON.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_info.h"
#include "engine/model/model_loader.h"
#include "engine/model/tensor_names.h"

namespace stemma::cli {
namespace {

int run_info(const Args& args) {
  try {
    if (auto dummy = args.get("dummy")) {
      std::ifstream in(*dummy, std::ios::binary);
      if (!in) return fail(NotFound("cannot read '" + *dummy + "'"));
      std::stringstream ss;
      ss << in.rdbuf();
      auto config = parse_hf_config(ss.str(), *dummy);
      if (!config.ok()) return fail(config.status());
      std::string type_name = args.get_or("type", "f16");
      auto type = dtype_from_name(type_name);
      if (!type) return fail(InvalidArgument("unknown --type '" + type_name + "'"));
      std::cout << dummy_model_info_json(*config, *type).dump(2) << "\n";
      return 0;
    }
    auto path = args.require("model");
    if (!path.ok()) return fail(InvalidArgument("give --model PATH or --dummy CONFIG.json"));
    auto model = load_model(*path);
    if (!model.ok()) return fail(model.status());
    std::cout << model_info_json(*model).dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterInfo, "info",
                   "model summary as JSON: --model PATH (GGUF or HF folder) | --dummy CONFIG.json "
                   "[--type f16]",
                   &run_info, {});

}  // namespace stemma::cli
