#!/usr/bin/env python3
"""The bf16 GEMM rate cuBLAS reaches on this card for one transformer layer's prefill matmuls
(torch.matmul, which calls cuBLAS/cuBLASLt): tokens x hidden times the layer's weights (fused
QKV, O, fused gate/up, down) for a config, medians of repeats. Prints JSON: per-shape TFLOP/s
and the layer's total (FLOPs of all four over their summed time), the figure issue 14's item 5
compares Stemma's prefill with.

  python3 bench/gpu/cublas_gemm_rate.py --config CONFIG.json [--tokens 8192]
"""

import argparse
import json
import statistics

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    with open(args.config) as f:
        c = json.load(f)
    h, inter = c["hidden_size"], c["intermediate_size"]
    hd = c.get("head_dim") or h // c["num_attention_heads"]
    qkv = (c["num_attention_heads"] + 2 * c["num_key_value_heads"]) * hd
    shapes = {"qkv": (h, qkv), "o": (c["num_attention_heads"] * hd, h), "gate_up": (h, 2 * inter),
              "down": (inter, h)}
    m = args.tokens
    res = {"gpu": torch.cuda.get_device_name(), "tokens": m, "shapes": {}}
    total_flops = 0.0
    total_s = 0.0
    for name, (k, n) in shapes.items():
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
        for _ in range(3):
            torch.matmul(a, w)
        times = []
        for _ in range(args.repeats):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            torch.matmul(a, w)
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e) / 1e3)
        t = statistics.median(times)
        flops = 2.0 * m * k * n
        res["shapes"][name] = {"k": k, "n": n, "tflops": flops / t / 1e12}
        total_flops += flops
        total_s += t
    res["layer_tflops"] = total_flops / total_s / 1e12
    # Matmul FLOPs per prompt token of the whole model (layers + the logits of one row are
    # negligible at 8k tokens), for turning a prefill tok/s into a GEMM rate.
    res["matmul_flops_per_token"] = 2.0 * c["num_hidden_layers"] * sum(k * n for k, n in
                                                                       shapes.values())
    print(json.dumps(res))


if __name__ == "__main__":
    main()
