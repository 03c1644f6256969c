#!/usr/bin/env python3
"""The peer of issue 14's serving comparison: HF transformers `generate` on the GPU (bf16, SDPA,
static KV cache, batched, greedy, fixed output length) over the prompts Stemma's shared-prefix
workload sends, on the same weights.

  make:  python3 bench/gpu/hf_generate_peer.py make --config CONFIG.json --dir DIR
         a seeded random model of CONFIG's shape saved as safetensors (bf16), which both Stemma
         (`--model DIR`) and the peer load.
  run:   python3 bench/gpu/hf_generate_peer.py run --dir DIR --prompts PROMPTS.json
         [--batch 64] [--max-requests N]
         PROMPTS.json from `stemma bench-workload ... --dump-prompts`; prints one JSON line:
         output tokens/s over the batched run, and batch-1 TTFT/TPOT on the first prompt.
"""

import argparse
import json
import time

import torch
import transformers


def make(args):
    with open(args.config) as f:
        cfg = transformers.LlamaConfig(**json.load(f))
    torch.manual_seed(args.seed)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = transformers.LlamaForCausalLM(cfg)
    model.save_pretrained(args.dir, safe_serialization=True)
    print(json.dumps({"saved": args.dir, "params": sum(p.numel() for p in model.parameters())}))


def generate(model, ids, new_tokens):
    attn = torch.ones_like(ids)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = model.generate(input_ids=ids, attention_mask=attn, max_new_tokens=new_tokens,
                         min_new_tokens=new_tokens, do_sample=False,
                         cache_implementation="static", pad_token_id=0)
    torch.cuda.synchronize()
    return out, time.perf_counter() - t0


def run(args):
    with open(args.prompts) as f:
        spec = json.load(f)
    prompts = spec["prompts"][: args.max_requests or None]
    out_len = spec["output_len"]
    model = transformers.AutoModelForCausalLM.from_pretrained(
        args.dir, dtype=torch.bfloat16, attn_implementation="sdpa").to("cuda").eval()
    res = {"peer": "hf-transformers " + transformers.__version__, "torch": torch.__version__,
           "gpu": torch.cuda.get_device_name(), "batch": args.batch, "requests": len(prompts),
           "output_len": out_len}
    with torch.inference_mode():
        # Batch 1 on the first prompt: TTFT from a 1-token generate, TPOT from the full one.
        one = torch.tensor([prompts[0]], device="cuda")
        generate(model, one, 2)  # warm-up (static cache allocation, kernels)
        _, ttft = generate(model, one, 1)
        out, t = generate(model, one, out_len)
        assert out.shape[1] == one.shape[1] + out_len
        res["batch1_ttft_s"] = ttft
        res["batch1_tpot_ms"] = (t - ttft) / (out_len - 1) * 1e3
        # Every prompt, `batch` at a time (the prompts of the workload have equal lengths).
        generated = 0
        wall = 0.0
        for i in range(0, len(prompts), args.batch):
            ids = torch.tensor(prompts[i:i + args.batch], device="cuda")
            out, t = generate(model, ids, out_len)
            assert out.shape[1] == ids.shape[1] + out_len
            generated += ids.shape[0] * out_len
            wall += t
            print(json.dumps({"batch_start": i, "seconds": t}), flush=True)
        res["wall_s"] = wall
        res["output_tokens_per_s"] = generated / wall
        res["max_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--config", required=True)
    m.add_argument("--dir", required=True)
    m.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--prompts", required=True)
    r.add_argument("--batch", type=int, default=64)
    r.add_argument("--max-requests", type=int, default=0)
    args = ap.parse_args()
    make(args) if args.cmd == "make" else run(args)


if __name__ == "__main__":
    main()
