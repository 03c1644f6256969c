"""Shared by the binding's tests: paths (set by ctest, or found from this file), one engine per
process, and the demo model's references: eval prompts with HF transformers' greedy replies."""
import json
import os

import stemma

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("STEMMA_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODEL = os.environ.get("STEMMA_TEST_MODEL") or os.path.join(SOURCE_DIR, "models", "stemma-faq.gguf")

_engine = None


def engine():
    global _engine
    if _engine is None:
        # One backend thread: ctest runs suites side by side on small CI machines.
        _engine = stemma.Engine(MODEL, threads=1, kv_memory_bytes=128 << 20)
    return _engine


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def hf_cases(stride):
    """Every stride-th eval prompt with HF's greedy reply (output, output_ids)."""
    # The prompts the HF replies were computed on (the eval prompts of that time).
    prompts = {p["id"]: p["prompt"] for p in
               read_jsonl(os.path.join(SOURCE_DIR, "tests/fixtures/faq-model/hf_greedy_prompts.jsonl"))}
    refs = read_jsonl(os.path.join(SOURCE_DIR,
                                   "tests/fixtures/faq-model/hf_greedy_q8_0_weights.jsonl"))
    cases = [dict(r, prompt=prompts[r["id"]]) for r in refs if r["id"] in prompts]
    return cases[::stride]


def split_chatml(prompt):
    """The messages of a rendered prompt of the demo model's template."""
    messages = []
    for part in prompt.split("<|im_start|>")[1:]:
        if "<|im_end|>\n" not in part:
            continue
        head, content = part.split("<|im_end|>\n")[0].split("\n", 1)
        messages.append({"role": head, "content": content})
    return messages


def faq_system_prompt():
    return split_chatml(hf_cases(1)[0]["prompt"])[0]["content"]


QUESTION = "<|im_start|>user\nHow do I reset my Lumora Hub?<|im_end|>\n<|im_start|>assistant\n"
