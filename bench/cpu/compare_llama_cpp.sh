#!/usr/bin/env bash
# Decode (and prefill) speed of Stemma's CPU backend against llama.cpp on the same GGUF file, in
# the same run: (1) a Qwen2.5-0.5B-shaped dummy model (seeded random weights) is written as GGUF
# in the chosen type with `stemma bench --save-gguf`, which also benchmarks that file; (2)
# llama.cpp (prebuilt, from npm: scripts/setup.d/50-llama-cpp.sh) runs the same prompt/decode
# schedule on it; (3) both are printed with the ratio. Rounds alternate the engines so that
# load from other processes hits them alike; figures are medians. --baseline BIN adds another
# `stemma` binary (e.g. main's build) to every round, its figures printed as baseline_*;
# --gguf FILE benchmarks an existing GGUF instead of writing a dummy one.
# usage: bench/cpu/compare_llama_cpp.sh [--type q8_0] [--threads 2] [--prompt 64] [--gen 32]
#        [--rounds 3] [--build build] [--config tests/fixtures/configs/qwen2.5-0.5b.json]
#        [--baseline path/to/stemma] [--gguf FILE] [--vocab V]
set -euo pipefail
cd "$(dirname "$0")/../.."

type=q8_0 threads=2 prompt=64 gen=32 rounds=3 build=build
config=tests/fixtures/configs/qwen2.5-0.5b.json
baseline="" gguf="" vocab=""
while (($#)); do
  case "$1" in
    --type) type=$2 ;; --threads) threads=$2 ;; --prompt) prompt=$2 ;; --gen) gen=$2 ;;
    --rounds) rounds=$2 ;; --build) build=$2 ;; --config) config=$2 ;;
    --baseline) baseline=$2 ;; --gguf) gguf=$2 ;; --vocab) vocab=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

stemma="$build/cli/stemma"
[ -x "$stemma" ] || { echo "build $stemma first (cmake --build $build --target stemma)" >&2; exit 1; }
[ -d .assets/llama-cpp/node_modules/node-llama-cpp ] || bash scripts/setup.d/50-llama-cpp.sh
[ -d .assets/llama-cpp/node_modules/node-llama-cpp ] || { echo "llama.cpp (npm) unavailable" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$gguf" ]; then
  gguf="$work/model-$type.gguf"
  vocab=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$config")
  echo "writing $gguf (dummy weights at the shapes of $config)" >&2
  "$stemma" bench --dummy "$config" --type "$type" --save-gguf "$gguf" --prompt 8 --gen 2 \
    --repeats 1 --threads "$threads" >/dev/null
fi
[ -n "$vocab" ] || { echo "--gguf needs --vocab V (token ids are drawn below V)" >&2; exit 2; }

for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  "$stemma" bench --model "$gguf" --prompt "$prompt" --gen "$gen" --threads "$threads" \
    --repeats 3 >"$work/stemma-$r.json"
  if [ -n "$baseline" ]; then
    "$baseline" bench --model "$gguf" --prompt "$prompt" --gen "$gen" --threads "$threads" \
      --repeats 3 >"$work/baseline-$r.json"
  fi
  node bench/cpu/llama_cpp_decode.mjs "$gguf" --prompt "$prompt" --gen "$gen" \
    --threads "$threads" --repeats 3 --vocab "$vocab" >"$work/llama-$r.json"
done

python3 - "$work" "$rounds" "$type" "$threads" "$prompt" "$gen" "$baseline" <<'PY'
import json, os, statistics, sys
work, rounds, typ, threads, prompt, gen, baseline = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
s = [json.load(open(f"{work}/stemma-{r}.json")) for r in range(1, rounds + 1)]
l = [json.load(open(f"{work}/llama-{r}.json")) for r in range(1, rounds + 1)]
med = lambda runs, key: statistics.median(x for run in runs for x in run[key + "_runs"])
out = {
    "model": s[0]["model"], "type": typ, "threads": int(threads), "prompt": int(prompt),
    "gen": int(gen), "rounds": rounds, "stemma_isa": s[0].get("isa") or s[0]["backend"]["isa"], "llama_cpp": l[0]["engine"],
    "stemma_decode_tok_s": med(s, "decode_tok_s"), "llama_cpp_decode_tok_s": med(l, "decode_tok_s"),
    "stemma_prefill_tok_s": med(s, "prefill_tok_s"), "llama_cpp_prefill_tok_s": med(l, "prefill_tok_s"),
}
out["decode_ratio_stemma_over_llama_cpp"] = out["stemma_decode_tok_s"] / out["llama_cpp_decode_tok_s"]
out["prefill_ratio_stemma_over_llama_cpp"] = out["stemma_prefill_tok_s"] / out["llama_cpp_prefill_tok_s"]
if baseline:
    b = [json.load(open(f"{work}/baseline-{r}.json")) for r in range(1, rounds + 1)]
    out["baseline"] = baseline
    out["baseline_decode_tok_s"] = med(b, "decode_tok_s")
    out["baseline_prefill_tok_s"] = med(b, "prefill_tok_s")
out["load_average"] = os.getloadavg()
print(json.dumps(out, indent=2))
PY
