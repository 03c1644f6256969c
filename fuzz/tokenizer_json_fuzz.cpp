// Fuzz target: HF tokenizer files. The input is a 16-bit length, tokenizer_config.json's text,
// then tokenizer.json's; a spec that parses is built into a Tokenizer, which encodes and decodes
// a text (taken from the config part's bytes, so it varies too).
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stemma;
  fuzz::Reader r(data, size);
  const std::string config(r.part16());
  const std::string tokenizer(r.rest());
  auto spec = parse_hf_tokenizer(tokenizer, config);
  if (!spec.ok()) return 0;
  auto tok = Tokenizer::create(std::move(spec).value());
  if (!tok.ok()) return 0;
  for (const std::string& text :
       {std::string("Hello world, <|im_start|> caf\xC3\xA9 42!\n"), config}) {
    for (bool special : {false, true}) {
      EncodeOptions eo;
      eo.add_special = special;
      eo.parse_special = special;
      const std::vector<int32_t> ids = (*tok)->encode(text, eo);
      DecodeOptions d;
      d.skip_special = !special;
      (void)(*tok)->decode(ids, d);
    }
  }
  return 0;
}
