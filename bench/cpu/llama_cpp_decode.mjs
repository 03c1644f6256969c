// llama.cpp's prefill and decode speed on a GGUF file, through node-llama-cpp (prebuilt
// llama.cpp CPU libraries from npm; scripts/setup.d/50-llama-cpp.sh installs them). Mirrors
// `stemma bench`: a prompt of N random token ids in one step, then M greedy decode steps,
// repeated R times after a warm-up; prints medians as JSON.
// usage: node llama_cpp_decode.mjs MODEL.gguf [--prompt N] [--gen M] [--threads T] [--repeats R]
//        [--vocab V] (token ids are drawn from [259, V))
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const assets = process.env.STEMMA_ASSETS_DIR ?? path.join(root, ".assets");
const entry = path.join(assets, "llama-cpp", "node_modules", "node-llama-cpp", "dist", "index.js");
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(entry).href);

const args = process.argv.slice(2);
const modelPath = args[0];
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const prompt = opt("prompt", 128), gen = opt("gen", 32), threads = opt("threads", 2);
const repeats = opt("repeats", 3);

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error,
                              maxThreads: threads});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({contextSize: prompt + gen + 16, batchSize: Math.max(prompt, 32),
                                           threads: {ideal: threads, min: threads}, sequences: 1});
// Token ids above the special and byte tokens of the minimal vocabulary, seeded (an LCG).
let state = 7;
const nVocab = opt("vocab", 32000);
const tokens = [];
for (let i = 0; i < prompt; ++i) {
  state = (state * 1103515245 + 12345) % 2147483648;
  tokens.push(259 + (state % (nVocab - 259)));
}

const prefill = [], decode = [];
for (let r = 0; r <= repeats; ++r) {  // r == 0 is the warm-up
  const seq = context.getSequence();
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, prompt - 1));
  const t1 = performance.now();
  // The last prompt token is evaluated by the first decode step, as in `stemma bench`, whose
  // prefill step yields the first token's logits and whose decode steps then run M tokens.
  let n = 0;
  const t2 = performance.now();
  // yieldEogToken: an end-of-generation token must not end the run early (it would time fewer
  // than M tokens of a model whose greedy path reaches EOS).
  for await (const _ of seq.evaluate([tokens[prompt - 1]], {temperature: 0, yieldEogToken: true})) {
    if (++n >= gen) break;
  }
  const t3 = performance.now();
  seq.dispose();
  if (r === 0) continue;
  if (n < gen) throw new Error(`decode stopped after ${n} of ${gen} tokens`);
  prefill.push((prompt - 1) / ((t1 - t0) / 1000));
  decode.push(gen / ((t3 - t2) / 1000));
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(JSON.stringify({engine: "llama.cpp (node-llama-cpp " + (await import(
  pathToFileURL(path.join(assets, "llama-cpp", "node_modules", "@node-llama-cpp", "linux-x64", "package.json")).href,
  {with: {type: "json"}})).default.version + ")", threads, prompt, gen, repeats,
  prefill_tok_s: median(prefill), decode_tok_s: median(decode),
  prefill_tok_s_runs: prefill, decode_tok_s_runs: decode}, null, 2));
await context.dispose();
await model.dispose();
await llama.dispose();
