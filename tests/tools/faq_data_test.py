#!/usr/bin/env python3
"""The committed FAQ demo data is what tools/train/make_corpus.py makes, the GGUF carries the
chat template of tools/train/faq_format.py, that template (rendered by Jinja2, when installed)
gives the committed prompts, and the HF reference replies parse as replies or tool calls.

Usage: faq_data_test.py <source dir>
"""

import json
import os
import subprocess
import sys
import tempfile

root = sys.argv[1] if len(sys.argv) > 1 else "."
sys.path.insert(0, os.path.join(root, "tools", "train"))
import check_gguf  # noqa: E402
import faq_format as F  # noqa: E402

failures = []
data = os.path.join(root, "demos", "faq-bot", "data")

# 1. Regenerating the data gives the committed bytes.
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, os.path.join(root, "tools", "train", "make_corpus.py"),
                    "--data", tmp], check=True, stdout=subprocess.DEVNULL)
    for name in ("faq.json", "eval.json", "dev.json", "eval_prompts.jsonl"):
        if open(os.path.join(tmp, name), "rb").read() != open(os.path.join(data, name), "rb").read():
            failures.append(f"{name} differs from what make_corpus.py makes")

# 2. Every committed prompt is the system prompt + question + retrieved context, rendered.
faq = json.load(open(os.path.join(data, "faq.json")))["entries"]
items = {it["id"]: it for it in json.load(open(os.path.join(data, "eval.json")))["items"]}
retriever = F.Retriever(faq)
prompts = [json.loads(line) for line in open(os.path.join(data, "eval_prompts.jsonl"))]
try:
    import jinja2

    template = jinja2.Environment().from_string(F.CHAT_TEMPLATE)
except ImportError:
    template = None
for p in prompts:
    it = items[p["id"]]
    got = retriever.search(it["question"])
    if [e["id"] for e in got] != it["retrieved_ids"]:
        failures.append(f"{p['id']}: retrieval {[e['id'] for e in got]} != {it['retrieved_ids']}")
    msgs = [{"role": "system", "content": F.SYSTEM_PROMPT},
            {"role": "user", "content": it["question"]},
            {"role": "context", "content": F.context_block(got)}]
    if F.render(msgs, True) != p["prompt"]:
        failures.append(f"{p['id']}: faq_format.render differs from the committed prompt")
    if template is not None and template.render(messages=msgs, add_generation_prompt=True) != p["prompt"]:
        failures.append(f"{p['id']}: Jinja2 rendering of the chat template differs")

# 2b. The prompts the HF references were computed on (tests/fixtures/faq-model) are the same eval
# items, each its question's prompt: the same system and user turns as now, a context block of
# FAQ entries (those the retriever of that time returned).
frozen = [json.loads(line) for line in open(os.path.join(root, "tests", "fixtures", "faq-model",
                                                          "hf_greedy_prompts.jsonl"))]
if [p["id"] for p in frozen] != [p["id"] for p in prompts]:
    failures.append("hf_greedy_prompts.jsonl has other ids than eval_prompts.jsonl")
for p in frozen:
    msgs = [{"role": "system", "content": F.SYSTEM_PROMPT},
            {"role": "user", "content": items[p["id"]]["question"]}]
    head = F.render(msgs) + F.IM_START + "context\n"
    ctx = p["prompt"][len(head):-len(F.IM_END + "\n" + F.IM_START + "assistant\n")]
    if not p["prompt"].startswith(head) or not p["prompt"].endswith(F.IM_START + "assistant\n"):
        failures.append(f"{p['id']}: hf_greedy_prompts.jsonl prompt is not this item's prompt")
    elif ctx != F.NO_RESULTS:
        ids = [blk.split("]", 1)[0][1:] for blk in ctx.split("\n\n")]
        if F.context_block([retriever.by_id[i] for i in ids]) != ctx:
            failures.append(f"{p['id']}: hf_greedy_prompts.jsonl context is not a context block")

# 3. The model file carries this template and the special tokens at their ids.
_, meta, _, _, _ = check_gguf.parse(os.path.join(root, "models", "stemma-faq.gguf"))
if meta["tokenizer.chat_template"] != F.CHAT_TEMPLATE:
    failures.append("GGUF chat template differs from faq_format.CHAT_TEMPLATE")
if meta["tokenizer.ggml.tokens"][:len(F.SPECIAL_TOKENS)] != F.SPECIAL_TOKENS:
    failures.append("GGUF special tokens are not ids 0..4")
if (meta["tokenizer.ggml.bos_token_id"], meta["tokenizer.ggml.eos_token_id"]) != (0, 2):
    failures.append("GGUF bos/eos ids are not 0/2")

# 4. The HF reference replies are replies or tool calls.
ref = os.path.join(root, "tests", "fixtures", "faq-model", "hf_greedy_q8_0_weights.jsonl")
for line in open(ref):
    r = json.loads(line)
    out = r["output"]
    if out.startswith(F.TOOL_CALL_OPEN):
        json.loads(out[len(F.TOOL_CALL_OPEN):-len(F.TOOL_CALL_CLOSE)])
    else:
        reply = json.loads(out)
        if list(reply) != ["answer", "source_ids", "escalate"]:
            failures.append(f"{r['id']}: reply keys {list(reply)}")

for f in failures[:20]:
    print("FAIL:", f)
print(f"{len(prompts)} prompts checked, jinja2 {'used' if template else 'not installed'}, "
      f"{len(failures)} failures")
sys.exit(1 if failures else 0)
