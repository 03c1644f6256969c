// `stemma info --model PATH | --dummy CONFIG.json [--type q8_0]`: a model's shape as JSON.
#include <iostream>

#include "cli/args.h"
#include "cli/json_text.h"
#include "engine/common/read_file.h"
#include "engine/model/hf_config.h"
#include "engine/model/model_info.h"
#include "engine/model/model_loader.h"
#include "engine/model/tensor_names.h"

namespace stemma::cli {
namespace {

int run_info(const Args& args) {
  try {
    if (auto dummy = args.get("dummy")) {
      auto text = read_file_bounded(*dummy);
      if (!text.ok()) return fail(text.status());
      auto config = parse_hf_config(*text, *dummy);
      if (!config.ok()) return fail(config.status());
      std::string type_name = args.get_or("type", "f16");
      auto type = dtype_from_name(type_name);
      if (!type) return fail(InvalidArgument("unknown --type '" + type_name + "'"));
      std::cout << json_text(dummy_model_info_json(*config, *type), 2) << "\n";
      return 0;
    }
    auto path = args.require("model");
    if (!path.ok()) return fail(InvalidArgument("give --model PATH or --dummy CONFIG.json"));
    auto model = load_model(*path);
    if (!model.ok()) return fail(model.status());
    std::cout << json_text(model_info_json(*model), 2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(Internal(e.what()));
  }
}

}  // namespace

STEMMA_CLI_COMMAND(kRegisterInfo, "info",
                   "model summary as JSON: --model PATH (GGUF or HF folder) | --dummy CONFIG.json "
                   "[--type f16]",
                   &run_info, {}, {"dummy", "model", "type"});

}  // namespace stemma::cli
