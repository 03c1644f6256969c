// Fuzz target: the GGUF reader and model loader. The input is a GGUF file: it is parsed from
// memory (header, metadata, tensor infos), then loaded through a path (mmap, config and
// tokenizer from metadata, tensor checks, Q5_0 repacking), and a model that loads is run.
#include <cstddef>
#include <cstdint>

#include "engine/model/gguf_loader.h"
#include "engine/model/gguf_reader.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/model_run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stemma;
  auto g = GgufFile::parse(data, size, "fuzz.gguf");
  if (g.ok()) {
    (void)gguf_model_config(*g);
    (void)gguf_tokenizer_spec(*g);
  }
  fuzz::MemFile file(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!file.ok()) return 0;
  auto model = load_gguf_model(file.path());
  if (model.ok()) fuzz::exercise_model(std::move(model).value());
  return 0;
}
