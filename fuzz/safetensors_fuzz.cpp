// Fuzz target: an HF model folder (config.json + model.safetensors). The input is a 16-bit
// length, config.json's text, then the safetensors file; both are also parsed alone, then
// written to a private folder and loaded as a model, which is run when it loads.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "engine/model/hf_config.h"
#include "engine/model/model_loader.h"
#include "engine/model/safetensors.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/model_run.h"

namespace {

// This process's folder, removed at exit.
const std::filesystem::path& folder() {
  struct Dir {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("stemma_fuzz_safetensors_" + std::to_string(getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

void write(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stemma;
  fuzz::Reader r(data, size);
  const std::string_view config = r.part16();
  const std::string_view tensors = r.rest();
  (void)parse_hf_config(std::string(config), "config.json");
  (void)parse_safetensors(reinterpret_cast<const uint8_t*>(tensors.data()), tensors.size(),
                          "model.safetensors");
  write(folder() / "config.json", config);
  write(folder() / "model.safetensors", tensors);
  auto model = load_model(folder().string());
  if (model.ok()) fuzz::exercise_model(std::move(model).value());
  return 0;
}
