#!/usr/bin/env python3
"""Trains the FAQ bot's model from scratch and exports it (GPU machine: torch, transformers,
tokenizers, safetensors, numpy).

  python3 tools/train/train.py --corpus corpus.jsonl.gz --data demos/faq-bot/data --out OUT

Steps: byte-level BPE tokenizer (HF tokenizers, GPT-2 pre-tokenizer regex) -> Llama model
(LlamaForCausalLM) trained with bf16 autocast, AdamW, cosine schedule over a wall-clock budget,
loss weighted 1.0 on assistant output and 0.1 elsewhere -> HF folder (bf16 safetensors) and a
Q8_0 GGUF (gguf_export.py) -> evaluation on the held-out set, once with the trained weights
and once with the weights read back from the GGUF file.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import faq_format as F  # noqa: E402
import gguf_export as G  # noqa: E402

T0 = time.time()


def log(*a):
    print("[%6.1fs]" % (time.time() - T0), *a, flush=True)


# ----------------------------------------------------------------------------- tokenizer
def train_tokenizer(texts, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=F.SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)

    def stripped():
        for t in texts:
            for s in F.SPECIAL_TOKENS:
                t = t.replace(s, "\n")
            yield t

    tok.train_from_iterator(stripped(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=F.BOS + " $A", pair=F.BOS + " $A " + F.BOS + " $B",
        special_tokens=[(F.BOS, tok.token_to_id(F.BOS))])
    for i, s in enumerate(F.SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, s
    return tok


def tokenizer_meta(tok):
    vocab = tok.get_vocab_size()
    tokens = [tok.id_to_token(i) for i in range(vocab)]
    merges = json.loads(tok.to_str())["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    types = [1] * vocab
    for s in (F.BOS, F.IM_START, F.IM_END):
        types[tok.token_to_id(s)] = 3  # control
    for s in (F.TOOL_CALL_OPEN, F.TOOL_CALL_CLOSE):
        types[tok.token_to_id(s)] = 4  # user-defined
    return dict(tokens=tokens, token_types=types, merges=merges, pre="gpt-2",
                bos_id=tok.token_to_id(F.BOS), eos_id=tok.token_to_id(F.IM_END),
                pad_id=tok.token_to_id(F.BOS), add_bos=True, chat_template=F.CHAT_TEMPLATE)


def tokenizer_from_meta(meta):
    """Rebuilds a tokenizer from GGUF-style vocab + merges (checks the export is complete)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(meta["tokens"])}
    merges = [tuple(m.split(" ")) for m in meta["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False)
                            for s in F.SPECIAL_TOKENS])
    tok.post_processor = processors.TemplateProcessing(
        single=F.BOS + " $A", special_tokens=[(F.BOS, meta["bos_id"])])
    return tok


def save_tokenizer_files(tok, folder):
    tok.save(os.path.join(folder, "tokenizer.json"))
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": F.BOS, "eos_token": F.IM_END, "pad_token": F.BOS, "unk_token": None,
        "add_bos_token": True, "add_eos_token": False, "model_max_length": 2048,
        "clean_up_tokenization_spaces": False, "chat_template": F.CHAT_TEMPLATE,
        "additional_special_tokens": [F.IM_START, F.TOOL_CALL_OPEN, F.TOOL_CALL_CLOSE],
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": F.BOS, "eos_token": F.IM_END, "pad_token": F.BOS}, f, indent=2)


# ----------------------------------------------------------------------------- data
def encode_corpus(tok, rows):
    texts = [r["text"] for r in rows]
    ids_all, w_all = [], []
    bos = tok.token_to_id(F.BOS)
    for start in range(0, len(texts), 4096):
        encs = tok.encode_batch(texts[start:start + 4096])
        for enc, row in zip(encs, rows[start:start + 4096]):
            ids = np.asarray(enc.ids, dtype=np.int32)
            starts = np.asarray([o[0] for o in enc.offsets], dtype=np.int64)
            bounds = np.asarray(row["spans"], dtype=np.int64).reshape(-1)
            inside = (np.searchsorted(bounds, starts, side="right") % 2) == 1
            w = np.where(inside, 1.0, 0.1).astype(np.float32)
            w[ids == bos] = 0.0
            ids_all.append(ids)
            w_all.append(w)
    return np.concatenate(ids_all), np.concatenate(w_all)


# ----------------------------------------------------------------------------- eval
def generate_batch(model, tok, prompts, device, max_new, batch=64):
    eos = tok.token_to_id(F.IM_END)
    pad = tok.token_to_id(F.BOS)
    encoded = [tok.encode(p).ids for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    outs = [None] * len(prompts)
    out_ids = [None] * len(prompts)
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        L = max(len(encoded[i]) for i in idx)
        ids = torch.full((len(idx), L), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), L), dtype=torch.long)
        for r, i in enumerate(idx):
            e = encoded[i]
            ids[r, L - len(e):] = torch.tensor(e)
            mask[r, L - len(e):] = 1
        with torch.no_grad():
            gen = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                 max_new_tokens=max_new, do_sample=False, eos_token_id=eos,
                                 pad_token_id=pad)
        for r, i in enumerate(idx):
            new = gen[r, L:].tolist()
            if eos in new:
                new = new[:new.index(eos)]
            outs[i] = tok.decode(new, skip_special_tokens=False)
            out_ids[i] = new
    return outs, out_ids


def parse_reply(text):
    try:
        obj = json.loads(text)
    except Exception:
        return None
    if not isinstance(obj, dict) or list(obj.keys()) != ["answer", "source_ids", "escalate"]:
        return None
    if not isinstance(obj["answer"], str) or not isinstance(obj["escalate"], bool):
        return None
    if not isinstance(obj["source_ids"], list):
        return None
    return obj


def parse_tool_call(text):
    if not (text.startswith(F.TOOL_CALL_OPEN) and text.endswith(F.TOOL_CALL_CLOSE)):
        return None
    try:
        return json.loads(text[len(F.TOOL_CALL_OPEN):-len(F.TOOL_CALL_CLOSE)])
    except Exception:
        return None


def evaluate(model, tok, items, prompts, device, label):
    outs, out_ids = generate_batch(model, tok, [prompts[it["id"]] for it in items], device, 160)
    rows = []
    agg = {}

    def bump(key, ok):
        a = agg.setdefault(key, [0, 0])
        a[0] += int(bool(ok))
        a[1] += 1

    for it, out, ids in zip(items, outs, out_ids):
        row = {"id": it["id"], "kind": it["kind"], "output": out, "output_ids": ids}
        if it["kind"] == "tool":
            call = parse_tool_call(out)
            ok = call == it["expected_tool_call"]
            bump("tool_call_exact", ok)
            row["ok"] = ok
        else:
            reply = parse_reply(out)
            bump("json_valid", reply is not None)
            exp = it["expected"]
            if it["kind"] == "out_of_scope":
                ok = reply is not None and reply["escalate"] and reply["source_ids"] == []
                bump("out_of_scope_escalated", ok)
            else:
                ok = reply is not None and reply["source_ids"] == exp["source_ids"] and \
                    reply["escalate"] == exp["escalate"]
                bump("faq_expected_reply", ok)
                bump("faq_expected_reply_" + it["phrasing"], ok)
                bump("faq_source_is_gold", reply is not None
                     and reply["source_ids"] == [it["gold_source_id"]])
                bump("faq_source_is_gold_" + it["phrasing"], reply is not None
                     and reply["source_ids"] == [it["gold_source_id"]])
                if it["gold_retrieved"]:
                    bump("faq_when_retrieved_source_correct", ok)
                    bump("faq_when_retrieved_answer_exact",
                         reply is not None and reply["answer"] == exp["answer"])
                else:
                    bump("faq_when_not_retrieved_escalated", ok)
            row["ok"] = ok
        rows.append(row)
    summary = {k: {"correct": v[0], "total": v[1], "rate": round(v[0] / v[1], 4)}
               for k, v in sorted(agg.items())}
    log(f"eval [{label}]")
    for k, v in summary.items():
        log(f"   {k:40s} {v['correct']:4d}/{v['total']:<4d} {100 * v['rate']:.1f}%")
    return summary, rows


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--data", default="demos/faq-bot/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--train-seconds", type=float, default=320)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import transformers
    from transformers import AutoModelForCausalLM, LlamaConfig

    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    log(f"torch {torch.__version__} transformers {transformers.__version__} device {device}")

    rows = [json.loads(line) for line in gzip.open(args.corpus, "rt")]
    log(f"corpus: {len(rows)} conversations")
    faq = json.load(open(os.path.join(args.data, "faq.json")))["entries"]
    tok_texts = [r["text"] for r in rows[:5000]] + [
        e["title"] + "\n" + e["question"] + "\n" + e["answer"] for e in faq]
    tok = train_tokenizer(tok_texts, args.vocab)
    V = tok.get_vocab_size()
    log(f"tokenizer: vocab {V}")
    stream, weights = encode_corpus(tok, rows)
    n_tok = len(stream)
    log(f"tokens: {n_tok} ({sum(len(r['text']) for r in rows) / n_tok:.2f} chars/token), "
        f"assistant share {(weights == 1.0).mean():.3f}")

    config = LlamaConfig(
        vocab_size=V, hidden_size=args.hidden, intermediate_size=args.ffn,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, head_dim=args.hidden // args.heads,
        max_position_embeddings=args.seq, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True, bos_token_id=0, eos_token_id=2, pad_token_id=0)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa").to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params / 1e6:.2f}M parameters")

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=(device == "cuda"))

    s_t = torch.from_numpy(stream.astype(np.int64)).to(device)
    w_t = torch.from_numpy(weights).to(device)
    T, B = args.seq, args.batch
    ar = torch.arange(T + 1, device=device)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    model.train()
    step, t_start = 0, time.time()
    warmup = 100
    loss_ema = None
    tokens_seen = 0
    while True:
        elapsed = time.time() - t_start
        if elapsed >= args.train_seconds:
            break
        frac = elapsed / args.train_seconds
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.randint(0, n_tok - T - 1, (B,), device=device, generator=gen)
        idx = starts[:, None] + ar[None, :]
        chunk = s_t[idx]
        x, y = chunk[:, :-1], chunk[:, 1:]
        w = w_t[idx[:, 1:]]
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=(device == "cuda")):
            logits = model(input_ids=x, use_cache=False).logits
        ce = Fn.cross_entropy(logits.float().view(-1, V), y.reshape(-1), reduction="none")
        loss = (ce * w.reshape(-1)).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens_seen += B * T
        if step % 50 == 0 or step == 1:
            lv = loss.item()
            with torch.no_grad():
                m = w.reshape(-1) == 1.0
                a_loss = ce[m].mean().item() if m.any() else float("nan")
            loss_ema = lv if loss_ema is None else 0.9 * loss_ema + 0.1 * lv
            log(f"step {step:5d} lr {lr:.2e} loss {lv:.4f} assistant-loss {a_loss:.4f} "
                f"tok/s {tokens_seen / (time.time() - t_start):,.0f}")
    train_wall = time.time() - t_start
    final = {"steps": step, "train_wall_s": round(train_wall, 1), "tokens_seen": tokens_seen,
             "final_loss": round(loss.item(), 4), "final_assistant_loss": round(a_loss, 4),
             "epochs": round(tokens_seen / n_tok, 2), "corpus_tokens": n_tok,
             "parameters": n_params}
    log("training done:", json.dumps(final))
    model.eval()
    # The references below (eval outputs, the tests' HF greedy replies) are float32: TF32
    # matmuls round inputs to 10 mantissa bits, enough to flip a near-tie in a greedy reply
    # against a float32 CPU engine.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    # ---- export: HF folder (bf16) + GGUF (Q8_0)
    from safetensors.torch import save_file

    hf_dir = os.path.join(args.out, "stemma-faq-hf")
    os.makedirs(hf_dir, exist_ok=True)
    cfg = model.config.to_dict()
    cfg["architectures"] = ["LlamaForCausalLM"]
    cfg["rope_theta"] = 10000.0
    cfg["rope_scaling"] = None
    cfg["dtype"] = cfg["torch_dtype"] = "bfloat16"
    try:
        sd = {k: v.detach().to(torch.bfloat16).contiguous().cpu()
              for k, v in model.state_dict().items() if k != "lm_head.weight"}
        save_file(sd, os.path.join(hf_dir, "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(hf_dir, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        with open(os.path.join(hf_dir, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 0}, f, indent=2)
        save_tokenizer_files(tok, hf_dir)
        log(f"saved HF folder {hf_dir}")
    except Exception as e:
        log("HF save failed:", repr(e))
    with open(os.path.join(args.out, "train_summary.json"), "w") as f:
        json.dump(final, f, indent=1)
    meta = tokenizer_meta(tok)
    gguf_path = os.path.join(args.out, "stemma-faq.gguf")
    np_sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    try:
        G.export_llama(gguf_path, {**cfg, "rope_theta": 10000.0}, np_sd, meta)
        log(f"exported {gguf_path}: {os.path.getsize(gguf_path):,} bytes")
    except Exception as e:
        import traceback

        traceback.print_exc()
        log("GGUF export failed:", repr(e))

    # ---- checks: GGUF tokenizer reproduces the trained one; GGUF weights round-trip
    results = {"train": final}
    items = json.load(open(os.path.join(args.data, "eval.json")))["items"]
    prompts = {}
    for line in open(os.path.join(args.data, "eval_prompts.jsonl")):
        r = json.loads(line)
        prompts[r["id"]] = r["prompt"]
    gtensors = None
    try:
        gmeta, gtensors = G.read_gguf(gguf_path)
        tok2 = tokenizer_from_meta(meta | {"tokens": gmeta["tokenizer.ggml.tokens"],
                                           "merges": gmeta["tokenizer.ggml.merges"]})
        same = sum(tok.encode(p).ids == tok2.encode(p).ids for p in prompts.values())
        results["gguf_tokenizer_same_ids"] = f"{same}/{len(prompts)}"
        log(f"GGUF vocab+merges re-tokenize eval prompts identically: {same}/{len(prompts)}")
        log("GGUF metadata:", {k: v for k, v in gmeta.items() if not isinstance(v, list)
                               and k != "tokenizer.chat_template"})
    except Exception as e:
        import traceback

        traceback.print_exc()
        log("GGUF read-back failed:", repr(e))
    try:  # the HF folder's tokenizer + chat template (rendered by transformers' Jinja) agree
        from transformers import AutoTokenizer

        hf_tok = AutoTokenizer.from_pretrained(hf_dir)
        it0 = items[0]
        msgs = [{"role": "system", "content": F.SYSTEM_PROMPT},
                {"role": "user", "content": it0["question"]},
                {"role": "context", "content": prompts[it0["id"]].split(
                    F.IM_START + "context\n")[1].split(F.IM_END)[0]}]
        rendered = hf_tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        results["hf_chat_template_matches"] = rendered == prompts[it0["id"]]
        results["hf_tokenizer_matches"] = hf_tok(rendered)["input_ids"] == tok.encode(
            rendered).ids
        log("HF AutoTokenizer: template matches", results["hf_chat_template_matches"],
            "ids match", results["hf_tokenizer_matches"])
    except Exception as e:
        log("HF tokenizer check failed:", repr(e))
    first = tok.encode(next(iter(prompts.values()))).ids
    log(f"first eval prompt: {len(first)} tokens, starts {first[:12]}")

    try:
        summary, rows_out = evaluate(model, tok, items, prompts, device, "trained weights")
        results["eval_trained_weights"] = summary
        with open(os.path.join(args.out, "eval_outputs.jsonl"), "w") as f:
            for r in rows_out:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    except Exception as e:  # keep the exported files even if eval breaks
        log("eval failed:", repr(e))
    try:
        assert gtensors is not None, "no GGUF tensors"
        m2 = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
        st = G.gguf_to_hf_state(gtensors, cfg)
        st["lm_head.weight"] = st["model.embed_tokens.weight"]
        missing = m2.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                                      for k, v in st.items()}, strict=False)
        log("gguf -> hf load:", missing)
        m2 = m2.to(device).eval()
        with torch.no_grad():
            ids = torch.tensor([first], device=device)
            d = (m2(ids).logits - model(ids).logits).abs().max().item()
        log(f"max |logit diff| trained vs GGUF Q8_0 weights on the first prompt: {d:.4f}")
        results["gguf_vs_trained_max_logit_diff"] = d
        summary2, rows2 = evaluate(m2, tok, items, prompts, device, "GGUF Q8_0 weights")
        results["eval_gguf_weights"] = summary2
        with open(os.path.join(args.out, "eval_outputs_gguf.jsonl"), "w") as f:
            for r in rows2:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    except Exception as e:
        log("gguf eval failed:", repr(e))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    log("all done")


if __name__ == "__main__":
    main()
