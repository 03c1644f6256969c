// Builds the three small tokenizers the reference test uses beside the npm vocabularies, with
// HF's own Rust library (npm `tokenizers`): models and pipeline steps no real vocabulary there
// has. Each is trained on the dev corpus (tests/fixtures/tokenizer/corpus.txt), cut to a few
// thousand tokens, and written to tests/fixtures/tokenizer/built/NAME/tokenizer.json:
//   wordpiece-bert     WordPiece, BertNormalizer, BertPreTokenizer, WordPiece decoder,
//                      BertProcessing, added tokens with lstrip / rstrip / single_word
//   unigram-metaspace  Unigram (unk_id 0), NFKC + regex Replace + Strip, Metaspace (first),
//                      Split regex MergedWithNext, Punctuation MergedWithPrevious
//   bpe-components     BPE with byte fallback, NFD + Lowercase + StripAccents + Prepend,
//                      Whitespace, Digits, Split string Removed, Split regex inverted
//                      Contiguous, CharDelimiterSplit; ByteFallback + Fuse + BPEDecoder
//
//   node tools/tokenizer/make_built_tokenizers.mjs [ASSETS_DIR]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const assets = path.resolve(process.argv[2] ?? ".assets/tokenizer");
const require = createRequire(path.join(assets, "node", "package.json"));
const tk = require("tokenizers");
const { Tokenizer, WordPiece, Unigram, BPE } = tk;

const fixtures = path.resolve("tests/fixtures/tokenizer");
const decoder = new TextDecoder("utf-8");
const corpus = fs.readFileSync(path.join(fixtures, "corpus.txt"), "utf8").split("\n").slice(0, -1)
  .map((h) => decoder.decode(Buffer.from(h, "hex")));
const trainFile = path.join(os.tmpdir(), `stemma-train-${process.pid}.txt`);
fs.writeFileSync(trainFile, corpus.join("\n") + "\n");

function write(name, json) {
  // Loading it back through the library checks that HF accepts what we wrote by hand.
  const text = JSON.stringify(json);
  Tokenizer.fromString(text);
  const dir = path.join(fixtures, "built", name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer.json"), text + "\n");
  console.log(`${name}: ${text.length} bytes`);
}

function trained(model, setup) {
  const t = new Tokenizer(model);
  setup(t);
  t.train([trainFile]);
  const file = path.join(os.tmpdir(), `stemma-tok-${process.pid}.json`);
  t.save(file);
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  fs.unlinkSync(file);
  return json;
}

// WordPiece with BERT's pipeline.
{
  const json = trained(WordPiece.empty(), (t) => {
    t.setNormalizer(tk.bertNormalizer());
    t.setPreTokenizer(tk.bertPreTokenizer());
    t.setDecoder(tk.wordPieceDecoder());
  });
  const keep = 3000;
  const vocab = {};
  for (const [tok, id] of Object.entries(json.model.vocab)) if (id < keep) vocab[tok] = id;
  for (const [i, t] of ["[UNK]", "[CLS]", "[SEP]", "[PAD]"].entries()) vocab[t] = keep + i;
  json.model.vocab = vocab;
  json.model.unk_token = "[UNK]";
  const added = (id, content, special, extra) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special,
    ...extra,
  });
  json.added_tokens = [
    added(keep, "[UNK]", true), added(keep + 1, "[CLS]", true), added(keep + 2, "[SEP]", true),
    added(keep + 3, "[PAD]", true), added(keep + 4, "[MASK]", true, { lstrip: true }),
    added(keep + 5, "<ent>", false, { single_word: true, rstrip: true, normalized: false }),
  ];
  json.post_processor = { type: "BertProcessing", sep: ["[SEP]", keep + 2], cls: ["[CLS]", keep + 1] };
  write("wordpiece-bert", json);
}

// Unigram with Metaspace and a normalizer sequence.
{
  const json = trained(Unigram.empty(), (t) => {
    t.setPreTokenizer(tk.metaspacePreTokenizer());
    t.setDecoder(tk.metaspaceDecoder());
  });
  const pieces = json.model.vocab.slice(0, 4000).filter(([p]) => p !== "<unk>");
  json.model.vocab = [["<unk>", 0.0], ...pieces];
  json.model.unk_id = 0;
  json.normalizer = { type: "Sequence", normalizers: [
    { type: "NFKC" },
    { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
    { type: "Strip", strip_left: false, strip_right: true },
  ] };
  // Metaspace first: its "first" scheme looks at original offsets, which Stemma tracks per
  // section, not through normalizers that expand a character (docs/tokenizer.md).
  json.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true },
    { type: "Split", pattern: { Regex: "\\p{N}+" }, behavior: "MergedWithNext", invert: false },
    { type: "Punctuation", behavior: "MergedWithPrevious" },
  ] };
  json.decoder = { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true };
  json.added_tokens = [{ id: 0, content: "<unk>", single_word: false, lstrip: false, rstrip: false,
                         normalized: false, special: true }];
  write("unigram-metaspace", json);
}

// BPE with byte fallback and many small steps.
{
  const json = trained(BPE.empty(), (t) => {
    t.setPreTokenizer(tk.whitespacePreTokenizer());
  });
  const keep = 3000;
  const vocab = {};
  const bytes = [];
  for (let b = 0; b < 256; ++b) bytes.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  let next = 0;
  for (const t of ["<unk>", ...bytes]) vocab[t] = next++;
  const ordered = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
  for (const [tok, id] of ordered) if (id < keep && !(tok in vocab)) vocab[tok] = next++;
  json.model.vocab = vocab;
  json.model.merges = json.model.merges.filter((m) => {
    const [a, b] = Array.isArray(m) ? m : m.split(" ");
    return a in vocab && b in vocab && (a + b) in vocab;
  });
  json.model.byte_fallback = true;
  json.model.unk_token = "<unk>";
  json.model.fuse_unk = true;
  json.normalizer = { type: "Sequence", normalizers: [
    { type: "NFD" }, { type: "Lowercase" }, { type: "StripAccents" },
    { type: "Replace", pattern: { String: "''" }, content: "\"" },
  ] };
  json.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Whitespace" },
    { type: "Digits", individual_digits: false },
    { type: "Split", pattern: { String: "-" }, behavior: "Removed", invert: false },
    { type: "Split", pattern: { Regex: "[aeiou]+" }, behavior: "Contiguous", invert: true },
    { type: "CharDelimiterSplit", delimiter: "_" },
  ] };
  json.decoder = { type: "Sequence", decoders: [
    { type: "ByteFallback" }, { type: "Fuse" }, { type: "BPEDecoder", suffix: "</w>" },
  ] };
  json.added_tokens = [{ id: 0, content: "<unk>", single_word: false, lstrip: false, rstrip: false,
                         normalized: false, special: true }];
  write("bpe-components", json);
}
fs.unlinkSync(trainFile);
