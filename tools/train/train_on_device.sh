#!/usr/bin/env bash
# Trains the FAQ bot's model on the GPU machine (docs/demo-model.md, Training): two variants at
# once on its one GPU, same corpus and wall-clock budget (the model is small, so two runs share
# the GPU well), 8 and 10 layers. Keeps the variant whose GGUF weights cite the gold entry most
# often on the held-out phrasings ("held_out", the dev set: the "fresh" phrasings play no part in
# the choice), ties to the smaller, and copies its files to OUT:
#   stemma-faq.gguf, results.json, train.log (+ check_gguf.py's report), eval_outputs.jsonl,
#   eval_outputs_gguf.jsonl (the HF greedy references), tokenizer.json, tokenizer_config.json,
#   selection.json (both variants' figures).
#
#   tools/train/train_on_device.sh CORPUS.jsonl.gz OUT TRAIN_SECONDS
set -uo pipefail
cd "$(dirname "$0")/../.."
corpus=$1
out=$2
seconds=$3
py=${PYTHON:-python3}
work=${FAQ_TRAIN_WORK:-/tmp/faq-train}
export PYTHONUNBUFFERED=1
mkdir -p "$out"

train() {  # name layers
  mkdir -p "$work/$1"
  "$py" tools/train/train.py --corpus "$corpus" --data demos/faq-bot/data --out "$work/$1" \
    --layers "$2" --train-seconds "$seconds" >"$work/$1/train.log" 2>&1
  echo "variant $1: train.py exited $?"
}
train l8 8 &
first=$!
sleep ${FAQ_TRAIN_STAGGER_S:-20}  # the second starts after the first has encoded the corpus (CPU), not at the same time
train l10 10 &
second=$!
wait "$first" "$second"

best=$("$py" - "$work" "$out/selection.json" <<'EOF'
import json, os, sys
work, dest = sys.argv[1], sys.argv[2]
rows = {}
for name in ("l8", "l10"):
    try:
        r = json.load(open(os.path.join(work, name, "results.json")))
        g = r["eval_gguf_weights"]
        rows[name] = {"train": r["train"],
                      **{k: g[k] for k in sorted(g) if k.startswith(("faq_source_is_gold",
                                                                       "out_of_scope", "tool",
                                                                       "json"))}}
    except Exception as e:  # a variant that failed cannot be chosen
        rows[name] = {"error": repr(e)}
ok = [n for n in ("l8", "l10") if "error" not in rows[n]]
best = max(ok, key=lambda n: rows[n]["faq_source_is_gold_held_out"]["rate"]) if ok else ""
json.dump({"chosen": best, "by": "eval_gguf_weights.faq_source_is_gold_held_out",
           "variants": rows}, open(dest, "w"), indent=1)
print(best)
EOF
)
echo "chosen variant: ${best:-none}"
[ -n "$best" ] || { tail -n 30 "$work"/l8/train.log "$work"/l10/train.log; exit 1; }
dir=$work/$best
"$py" tools/train/check_gguf.py "$dir/stemma-faq.gguf" --hf "$dir/stemma-faq-hf" >>"$dir/train.log" 2>&1
cp "$dir/stemma-faq.gguf" "$dir/results.json" "$dir/train.log" "$dir/eval_outputs.jsonl" \
  "$dir/eval_outputs_gguf.jsonl" "$dir/stemma-faq-hf/tokenizer.json" \
  "$dir/stemma-faq-hf/tokenizer_config.json" "$out/"
grep -E "training done|eval \[|faq_source_is_gold|out_of_scope|tool_call|json_valid|max \|logit" \
  "$dir/train.log"
cat "$out/selection.json"
