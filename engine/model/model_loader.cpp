#include "engine/model/model_loader.h"

#include <filesystem>
#include <fstream>

#include "engine/model/gguf_loader.h"
#include "engine/model/hf_loader.h"

namespace stemma {
namespace fs = std::filesystem;

Result<LoadedModel> load_model(const std::string& path) {
  try {
    std::error_code ec;
    fs::path p(path);
    if (!fs::exists(p, ec)) return NotFound("model path '" + path + "' does not exist");
    if (fs::is_directory(p, ec)) return load_hf_folder(path);
    // A file: GGUF by its magic; config.json or a .safetensors file stand for their folder.
    std::ifstream in(p, std::ios::binary);
    char magic[4] = {0, 0, 0, 0};
    in.read(magic, 4);
    if (in.gcount() == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' &&
        magic[3] == 'F') {
      return load_gguf_model(path);
    }
    if (p.filename() == "config.json" || p.extension() == ".safetensors") {
      return load_hf_folder(p.parent_path().empty() ? "." : p.parent_path().string());
    }
    if (p.extension() == ".gguf") return load_gguf_model(path);  // reports the bad magic
    return InvalidArgument("'" + path + "' is neither a GGUF file nor an HF model folder");
  } catch (const std::exception& e) {
    return Internal("loading '" + path + "': " + e.what());
  }
}

}  // namespace stemma
