#!/usr/bin/env bash
# Trains the FAQ bot's model on the GPU machine (docs/demo-model.md, Training): two or more
# variants at once on its one GPU, same wall-clock budget each (the model is small and one run
# leaves the GPU mostly idle, so two runs share it well). A variant is NAME:LAYERS:CORPUS; a
# corpus that does not exist yet is waited for (up to 180 s), so another process may still be
# writing it (the device command makes the second corpus while the first variant starts).
# Keeps the variant whose GGUF weights cite the gold entry most often on the held-out phrasings
# ("held_out", the dev set: the "fresh" phrasings play no part in the choice), ties to the
# first listed, and copies its files to OUT:
#   stemma-faq.gguf, results.json, train.log (+ check_gguf.py's report), eval_outputs.jsonl,
#   eval_outputs_gguf.jsonl (the HF greedy references), tokenizer.json, tokenizer_config.json,
#   selection.json (every variant's figures).
#
#   tools/train/train_on_device.sh OUT TRAIN_SECONDS NAME:LAYERS:CORPUS [NAME:LAYERS:CORPUS...]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$1
seconds=$2
shift 2
py=${PYTHON:-python3}
work=${FAQ_TRAIN_WORK:-/tmp/faq-train}
export PYTHONUNBUFFERED=1
mkdir -p "$out"

train() {  # name layers corpus
  mkdir -p "$work/$1"
  for _ in $(seq 90); do [ -f "$3" ] && break; sleep 2; done
  "$py" tools/train/train.py --corpus "$3" --data demos/faq-bot/data --out "$work/$1" \
    --layers "$2" --train-seconds "$seconds" >"$work/$1/train.log" 2>&1
  echo "variant $1: train.py exited $?"
}
names=()
pids=()
for v in "$@"; do
  IFS=: read -r name layers corpus <<<"$v"
  names+=("$name")
  train "$name" "$layers" "$corpus" &
  pids+=($!)
  # the next starts after this one has encoded its corpus (CPU), not at the same time
  [ "$v" = "${@: -1}" ] || sleep ${FAQ_TRAIN_STAGGER_S:-20}
done
wait "${pids[@]}"

best=$("$py" - "$work" "$out/selection.json" "${names[@]}" <<'PYEOF'
import json, os, sys
work, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = {}
for name in names:
    try:
        r = json.load(open(os.path.join(work, name, "results.json")))
        g = r["eval_gguf_weights"]
        rows[name] = {"train": r["train"],
                      **{k: g[k] for k in sorted(g) if k.startswith(("faq_source_is_gold",
                                                                       "out_of_scope", "tool",
                                                                       "json"))}}
    except Exception as e:  # a variant that failed cannot be chosen
        rows[name] = {"error": repr(e)}
ok = [n for n in names if "error" not in rows[n]]
def dev_rate(n):  # ties: the first listed
    return rows[n]["faq_source_is_gold_held_out"]["rate"], -names.index(n)
best = max(ok, key=dev_rate) if ok else ""
json.dump({"chosen": best, "by": "eval_gguf_weights.faq_source_is_gold_held_out",
           "variants": rows}, open(dest, "w"), indent=1)
print(best)
PYEOF
)
echo "chosen variant: ${best:-none}"
[ -n "$best" ] || { for n in "${names[@]}"; do tail -n 30 "$work/$n/train.log"; done; exit 1; }
dir=$work/$best
"$py" tools/train/check_gguf.py "$dir/stemma-faq.gguf" --hf "$dir/stemma-faq-hf" >>"$dir/train.log" 2>&1
cp "$dir/stemma-faq.gguf" "$dir/results.json" "$dir/train.log" "$dir/eval_outputs.jsonl" \
  "$dir/eval_outputs_gguf.jsonl" "$dir/stemma-faq-hf/tokenizer.json" \
  "$dir/stemma-faq-hf/tokenizer_config.json" "$out/"
grep -E "training done|eval \[|faq_source_is_gold|out_of_scope|tool_call|json_valid|max \|logit" \
  "$dir/train.log"
cat "$out/selection.json"
