// llama.cpp's greedy replies on the FAQ model, through node-llama-cpp (prebuilt llama.cpp CPU
// libraries from npm; scripts/setup.d/50-llama-cpp.sh installs them under .assets/llama-cpp).
// For each input line {"id", "prompt_ids", "max_tokens"} it evaluates exactly those token ids
// (the prompt as Stemma tokenized it) and decodes greedily (temperature 0) until an end-of-
// generation token or max_tokens; it also tokenizes "prompt" (when given) with llama.cpp's own
// tokenizer, special tokens recognised. Prints one JSON line per input:
//   {"id", "output_ids" (without the end token), "eog" (ended at it), "llama_prompt_ids"}
// usage: node llama_cpp_greedy.mjs MODEL.gguf INPUT.jsonl [--threads N]
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import {fileURLToPath, pathToFileURL} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..", "..");
const assets = process.env.STEMMA_ASSETS_DIR ?? path.join(root, ".assets");
const entry = path.join(assets, "llama-cpp", "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
  console.error(`llama_cpp_greedy: ${entry} is missing; run scripts/setup.sh ` +
                "(scripts/setup.d/50-llama-cpp.sh installs node-llama-cpp)");
  process.exit(3);
}
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(entry).href);

const args = process.argv.slice(2);
const [modelPath, inputPath] = args;
const ti = args.indexOf("--threads");
const threads = ti >= 0 ? Number(args[ti + 1]) : 2;

const inputs = [];
for await (const line of readline.createInterface({input: fs.createReadStream(inputPath)})) {
  if (line.trim() !== "") inputs.push(JSON.parse(line));
}
const longest = Math.max(...inputs.map((x) => x.prompt_ids.length + x.max_tokens));

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error,
                              maxThreads: threads});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({contextSize: longest + 16, batchSize: 512,
                                           threads: {ideal: threads, min: 1}, sequences: 1});
for (const item of inputs) {
  const seq = context.getSequence();
  const out = [];
  // evaluate() yields the greedy token after each step and ends by itself at an end-of-
  // generation token (the model's <|im_end|>) without yielding it: "eog" tells that apart from
  // stopping at max_tokens.
  let eog = true;
  for await (const token of seq.evaluate(item.prompt_ids, {temperature: 0})) {
    if (model.isEogToken(token)) break;
    out.push(token);
    if (out.length >= item.max_tokens) {
      eog = false;
      break;
    }
  }
  const llamaIds = item.prompt === undefined ? null
    : Array.from(model.tokenize(item.prompt, true));
  console.log(JSON.stringify({id: item.id, output_ids: out, eog, llama_prompt_ids: llamaIds}));
  seq.dispose();
}
await context.dispose();
await model.dispose();
await llama.dispose();
