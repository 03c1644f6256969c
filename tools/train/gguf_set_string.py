#!/usr/bin/env python3
"""Sets one string metadata value of a GGUF file, keeping every tensor byte (python stdlib only).

The header is rewritten with the new value and padded to the file's alignment; the tensor data
follows unchanged (tensor offsets are relative to the data section, so they stay valid).

  python3 tools/train/gguf_set_string.py models/stemma-faq.gguf tokenizer.ggml.pre gpt-2

Used once on the shipped model: llama.cpp names the GPT-2 pre-tokenizer "gpt-2" and refuses a
file that says "gpt2" (which Stemma and gguf_export.py's first version wrote); Stemma reads
both names as the same regex.
"""

import struct
import sys

_SCALAR_SIZE = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
T_STRING, T_ARRAY = 8, 9


def _skip_value(buf, pos, vtype):
    if vtype == T_STRING:
        (n,) = struct.unpack_from("<Q", buf, pos)
        return pos + 8 + n
    if vtype == T_ARRAY:
        etype, count = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        for _ in range(count):
            pos = _skip_value(buf, pos, etype)
        return pos
    return pos + _SCALAR_SIZE[vtype]


def set_string(path, key, value):
    buf = open(path, "rb").read()
    if buf[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    _, n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
    pos = 24
    found = None
    alignment = 32
    for _ in range(n_kv):
        (klen,) = struct.unpack_from("<Q", buf, pos)
        name = buf[pos + 8:pos + 8 + klen].decode("utf-8")
        pos += 8 + klen
        (vtype,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        start = pos
        pos = _skip_value(buf, pos, vtype)
        if name == key:
            if vtype != T_STRING:
                raise SystemExit(f"{path}: {key} is not a string (type {vtype})")
            found = (start, pos)
        if name == "general.alignment":
            (alignment,) = struct.unpack_from("<I", buf, start)
    for _ in range(n_tensors):  # name, n_dims, dims, type, offset
        (nlen,) = struct.unpack_from("<Q", buf, pos)
        pos += 8 + nlen
        (n_dims,) = struct.unpack_from("<I", buf, pos)
        pos += 4 + 8 * n_dims + 4 + 8
    if found is None:
        raise SystemExit(f"{path}: no metadata key {key}")
    data_start = pos + (-pos) % alignment
    encoded = value.encode("utf-8")
    header = buf[:found[0]] + struct.pack("<Q", len(encoded)) + encoded + buf[found[1]:pos]
    header += b"\0" * ((-len(header)) % alignment)
    with open(path, "wb") as f:
        f.write(header)
        f.write(buf[data_start:])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    set_string(sys.argv[1], sys.argv[2], sys.argv[3])
