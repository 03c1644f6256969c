#!/usr/bin/env python3
"""Checks a GGUF file written by gguf_export.py (python stdlib only).

Parses header, metadata and tensor infos, checks alignment and that the tensor data exactly
fills the file, prints the metadata. With --hf <folder> (an HF folder with BF16/F32
model.safetensors), also compares some dequantized Q8_0 rows against the HF weights, including
the Q/K row permutation of GGUF arch llama.

  python3 tools/train/check_gguf.py models/stemma-faq.gguf [--hf path/to/stemma-faq-hf]
"""

import argparse
import json
import struct
import sys

TYPE_SIZE = {0: (1, 4), 1: (1, 2), 8: (32, 34)}  # ggml type -> (block elems, block bytes)
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
          11: "<q", 12: "<d"}


class Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(SCALAR[t])


def parse(path):
    buf = open(path, "rb").read()
    r = Reader(buf)
    assert buf[:4] == b"GGUF", "bad magic"
    r.pos = 4
    version, n_t, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    assert version == 3, version
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_t):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        infos.append((name, ne, r.take("<I"), r.take("<Q")))
    align = meta.get("general.alignment", 32)
    data = r.pos + (-r.pos) % align
    return buf, meta, infos, data, align


def f16(b):
    return struct.unpack("<e", b)[0]


def q8_row(buf, start, row, ncols):
    out = []
    base = start + row * (ncols // 32) * 34
    for blk in range(ncols // 32):
        o = base + blk * 34
        d = f16(buf[o:o + 2])
        out.extend(d * q for q in struct.unpack_from("<32b", buf, o + 2))
    return out


def safetensors_row(path, name, row):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        t = header[name]
        cols = t["shape"][1]
        size = 2 if t["dtype"] == "BF16" else 4
        f.seek(8 + n + t["data_offsets"][0] + row * cols * size)
        raw = f.read(cols * size)
    if size == 2:
        return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    return list(struct.unpack("<%df" % cols, raw))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--hf", default=None)
    args = ap.parse_args()
    buf, meta, infos, data, align = parse(args.gguf)
    problems = []
    end = data
    for name, ne, t, off in infos:
        if off % align:
            problems.append(f"{name}: offset {off} not aligned")
        elems = 1
        for n in ne:
            elems *= n
        be, bb = TYPE_SIZE[t]
        if ne[0] % be:
            problems.append(f"{name}: ne[0] {ne[0]} not a multiple of {be}")
        end = max(end, data + off + elems // be * bb)
    if end + (-end) % align != len(buf) and end != len(buf):
        problems.append(f"data ends at {end}, file has {len(buf)} bytes")
    for k, v in meta.items():
        if isinstance(v, list):
            print(f"{k}: [{len(v)} items] {v[:6]}")
        elif k == "tokenizer.chat_template":
            print(f"{k}: {len(v)} chars")
        else:
            print(f"{k}: {v}")
    print(f"{len(infos)} tensors, data at {data}, file {len(buf)} bytes")
    if args.hf:
        st = args.hf.rstrip("/") + "/model.safetensors"
        by_name = {i[0]: i for i in infos}
        n_head = meta["llama.attention.head_count"]
        n_kv = meta["llama.attention.head_count_kv"]
        hd = meta["llama.embedding_length"] // n_head
        checks = [("token_embd.weight", "model.embed_tokens.weight", None),
                  ("blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight", None),
                  ("blk.3.attn_q.weight", "model.layers.3.self_attn.q_proj.weight", n_head),
                  ("blk.5.attn_k.weight", "model.layers.5.self_attn.k_proj.weight", n_kv)]
        for gname, hname, heads in checks:
            _, ne, t, off = by_name[gname]
            worst = 0.0
            for grow in (0, 1, 2, 33, 64 + 7, ne[1] - 1):
                hrow = grow
                if heads:  # GGUF row h*hd + 2j + t  <-  HF row h*hd + t*hd/2 + j
                    h, rem = divmod(grow, hd)
                    j, tt = divmod(rem, 2)
                    hrow = h * hd + tt * (hd // 2) + j
                g = q8_row(buf, data + off, grow, ne[0])
                h_ = safetensors_row(st, hname, hrow)
                scale = max(abs(x) for x in h_) or 1.0
                worst = max(worst, max(abs(a - b) for a, b in zip(g, h_)) / scale)
            ok = worst < 0.02
            print(f"{gname} vs {hname}: max rel diff {worst:.4f} {'OK' if ok else 'BAD'}")
            if not ok:
                problems.append(f"{gname} differs from {hname}")
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
