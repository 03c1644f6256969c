// Encodes and decodes the tokenizer corpora with HF's Rust tokenizers (npm `tokenizers`, the
// library transformers uses) and writes the compact reference fixtures the C++ test compares
// against: tests/fixtures/tokenizer/reference/NAME.ref for every vocabulary in
// reference/VOCABS.
//
//   node tools/tokenizer/make_reference.mjs [ASSETS_DIR]           write every NAME.ref
//   node tools/tokenizer/make_reference.mjs --show NAME SET INDEX  print HF's ids and decode
//                                                                  of one entry (SET d|h)
//
// ASSETS_DIR (default .assets/tokenizer) holds the unpacked npm vocabularies and
// node/node_modules/tokenizers (scripts/setup.d/20-tokenizer-assets.sh puts them there).
// A .ref file has one line per corpus entry, "SETINDEX IDS PLAIN DECODE SKIP" (SET d = the dev
// corpus corpus.txt, h = the held-out corpus heldout.txt), each a 12-hex-digit hash (see
// hash() below, mirrored in the C++ test):
//   IDS     of encode(text, add_special_tokens=false), ids joined with " "
//   PLAIN   the same with the special added tokens treated as text (parse_special = false),
//           or "=" when equal
//   DECODE  of decode(IDS, skip_special_tokens=false), or "=" when it is the text itself (the
//           corpus bytes decoded as UTF-8 with U+FFFD replacement, as TextDecoder does)
//   SKIP    of decode(IDS, skip_special_tokens=true), or "=" when equal to DECODE
// then "bINDEX HASH" lines: encode(text, add_special_tokens=true) of the first 50 dev entries,
// and "rINDEX IDS DECODE SKIP" lines: 300 random id sequences (seeded by NAME; ids in full)
// with the hashes of their two decodes.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const args = process.argv.slice(2);
const show = args[0] === "--show" ? args.slice(1, 4) : null;
const assets = path.resolve((show ? null : args[0]) ?? ".assets/tokenizer");
const require = createRequire(path.join(assets, "node", "package.json"));
const { Tokenizer } = require("tokenizers");
const fixtures = path.resolve("tests/fixtures/tokenizer");

// Two 32-bit FNV-1a hashes of the UTF-8 bytes (different offset bases), as 8 + 4 hex digits.
export function hash(text) {
  const bytes = Buffer.from(text, "utf8");
  let h1 = 0x811c9dc5, h2 = 0x9747b28c;
  for (const b of bytes) {
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b, 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + (h2 >>> 16).toString(16).padStart(4, "0");
}

function vocabs() {
  const out = [];
  for (const line of fs.readFileSync(path.join(fixtures, "reference", "VOCABS"), "utf8").split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const [name, where] = line.split("\t");
    const [kind, dir] = where.split(":");
    out.push({ name, dir: kind === "assets" ? path.join(assets, dir, "package", "models")
                                            : path.join(fixtures, "built", dir) });
  }
  return out;
}

function corpus(file) {
  const decoder = new TextDecoder("utf-8");
  return fs.readFileSync(path.join(fixtures, file), "utf8").split("\n").slice(0, -1)
    .map((h) => decoder.decode(Buffer.from(h, "hex")));
}

// A deterministic generator (mulberry32) seeded by the vocabulary's name.
function rng(seedText) {
  let a = parseInt(hash(seedText).slice(0, 8), 16);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function load(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const tok = Tokenizer.fromString(JSON.stringify(json));
  // Special tokens as plain text: their content made unmatchable (removing them would make HF
  // renumber the added tokens after them).
  const plainJson = structuredClone(json);
  for (const t of plainJson.added_tokens ?? []) {
    if (t.special) t.content = `\u0001unmatchable special token ${t.id}\u0001`;
  }
  const plain = Tokenizer.fromString(JSON.stringify(plainJson));
  // HF numbers added tokens by content, so a renamed special token can shift the ids of the
  // added tokens after it: map the plain tokenizer's ids back to the real ones.
  const remap = new Map();
  for (const t of json.added_tokens ?? []) {
    if (t.special) continue;
    const from = plain.tokenToId(t.content), to = tok.tokenToId(t.content);
    if (from !== null && to !== null) remap.set(from, to);
  }
  const plainIds = (e) => e.getIds().map((id) => remap.get(id) ?? id);
  return { json, tok, plain, plainIds };
}

const sets = { d: corpus("corpus.txt"), h: corpus("heldout.txt") };

if (show) {
  const [name, set, index] = show;
  const v = vocabs().find((x) => x.name === name);
  const { tok, plain, plainIds } = load(v.dir);
  const text = sets[set][Number(index)];
  const ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
  console.log(JSON.stringify({ text, ids,
    plain: plainIds(await plain.encode(text, null, { addSpecialTokens: false })),
    tokens: (await tok.encode(text, null, { addSpecialTokens: false })).getTokens(),
    decode: await tok.decode(ids, false), skip: await tok.decode(ids, true) }, null, 1));
  process.exit(0);
}

for (const { name, dir } of vocabs()) {
  const { json, tok, plain, plainIds } = load(dir);
  const lines = [`# ${name}: HF tokenizers (npm tokenizers) on ${path.relative(process.cwd(), dir)}`];
  for (const [set, texts] of Object.entries(sets)) {
    const enc = await tok.encodeBatch(texts, { addSpecialTokens: false });
    const encPlain = await plain.encodeBatch(texts, { addSpecialTokens: false });
    const idLists = enc.map((e) => e.getIds());
    const decoded = await tok.decodeBatch(idLists, false);
    const skipped = await tok.decodeBatch(idLists, true);
    texts.forEach((text, i) => {
      const ids = idLists[i].join(" ");
      const p = plainIds(encPlain[i]).join(" ");
      lines.push(`${set}${i} ${hash(ids)} ${p === ids ? "=" : hash(p)} ` +
                 `${decoded[i] === text ? "=" : hash(decoded[i])} ` +
                 `${skipped[i] === decoded[i] ? "=" : hash(skipped[i])}`);
    });
  }
  const withSpecial = await tok.encodeBatch(sets.d.slice(0, 50), { addSpecialTokens: true });
  withSpecial.forEach((e, i) => lines.push(`b${i} ${hash(e.getIds().join(" "))}`));
  // Random id sequences: any id, added tokens (special or not) and byte tokens more often.
  const size = tok.getVocabSize(true);
  const added = (json.added_tokens ?? []).map((t) => t.id);
  const byteIds = Object.entries(json.model.vocab ?? {})
    .filter(([t]) => /^<0x[0-9A-F]{2}>$/.test(t)).map(([, id]) => id);
  const next = rng(name);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const randomIds = [];
  for (let i = 0; i < 300; ++i) {
    const ids = [];
    const n = 1 + Math.floor(next() * 8);
    for (let k = 0; k < n; ++k) {
      const r = next();
      if (r < 0.2 && added.length) ids.push(pick(added));
      else if (r < 0.35 && byteIds.length) ids.push(pick(byteIds));
      else ids.push(Math.floor(next() * size));
    }
    randomIds.push(ids.filter((id) => tok.idToToken(id) !== null));
  }
  const rd = await tok.decodeBatch(randomIds, false);
  const rs = await tok.decodeBatch(randomIds, true);
  randomIds.forEach((ids, i) =>
    lines.push(`r${i} ${ids.length ? ids.join(",") : "-"} ${hash(rd[i])} ${hash(rs[i])}`));
  fs.writeFileSync(path.join(fixtures, "reference", `${name}.ref`), lines.join("\n") + "\n");
  console.log(`${name}: ${lines.length} lines`);
}
