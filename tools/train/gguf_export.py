"""A minimal GGUF v3 writer and reader (numpy), and the HF Llama -> GGUF conversion.

Layout (little-endian): magic "GGUF", u32 version 3, u64 tensor count, u64 metadata count,
metadata (key string, u32 type, value), tensor infos (name, u32 n_dims, u64 ne[n_dims] with
ne[0] the contiguous dimension, u32 ggml type, u64 offset from the data section), padding to
`general.alignment` (32), then tensor data, each tensor starting at a multiple of the alignment.
Strings are u64 length + UTF-8 bytes; arrays are u32 element type + u64 count + elements.

Tensor types written: F32 (0), F16 (1), Q8_0 (8: blocks of 32 values, an f16 scale d then 32
int8 q, value = d * q; quantized as llama.cpp's reference does: d = max|x| / 127, q =
round-half-away-from-zero(x / d), computed in float32).

Q and K projection rows are permuted for GGUF arch "llama" the way llama.cpp's
convert_hf_to_gguf.py does (HF rotates halves of each head, GGUF llama rotates adjacent pairs).
"""

import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# Metadata value types.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, \
    T_UINT64, T_INT64, T_FLOAT64 = range(13)
_SCALAR_FMT = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I",
               T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q",
               T_FLOAT64: "<d"}

# ggml tensor types.
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
QK8_0 = 32

LLAMA_FTYPE_MOSTLY_F16 = 1
LLAMA_FTYPE_MOSTLY_Q8_0 = 7


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def quantize_q8_0(x):
    """float array (rows, cols), cols % 32 == 0 -> bytes of Q8_0 blocks, row-major."""
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK8_0)
    amax = np.abs(x).max(axis=1)
    d = (amax / np.float32(127.0)).astype(np.float32)
    inv = np.zeros_like(d)
    nz = d != 0
    inv[nz] = (np.float32(1.0) / d[nz]).astype(np.float32)
    v = (x * inv[:, None]).astype(np.float32)
    q = (np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))).astype(np.int8)
    blocks = np.empty(x.shape[0], dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q
    return blocks.tobytes()


def dequantize_q8_0(buf, n):
    blocks = np.frombuffer(buf, dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))], count=n // QK8_0)
    return (blocks["d"].astype(np.float32)[:, None] * blocks["qs"].astype(np.float32)).reshape(-1)


class GGUFWriter:
    def __init__(self):
        self.kv = []  # (key, bytes of type + value)
        self.tensors = []  # (name, shape (torch order), ggml type, bytes)

    # metadata
    def add(self, key, vtype, value):
        if vtype == T_STRING:
            payload = _string(value)
        else:
            payload = struct.pack(_SCALAR_FMT[vtype], value)
        self.kv.append((key, struct.pack("<I", vtype) + payload))

    def add_array(self, key, etype, values):
        out = [struct.pack("<IIQ", T_ARRAY, etype, len(values))]
        if etype == T_STRING:
            out.extend(_string(v) for v in values)
        else:
            out.append(np.asarray(values, dtype=np.dtype(_SCALAR_FMT[etype])).tobytes())
        self.kv.append((key, b"".join(out)))

    # tensors
    def add_tensor(self, name, array, ggml_type):
        a = np.ascontiguousarray(array, dtype=np.float32)
        if ggml_type == GGML_F32:
            data = a.astype("<f4").tobytes()
        elif ggml_type == GGML_F16:
            data = a.astype("<f2").tobytes()
        elif ggml_type == GGML_Q8_0:
            assert a.shape[-1] % QK8_0 == 0, (name, a.shape)
            data = quantize_q8_0(a)
        else:
            raise ValueError(f"unsupported ggml type {ggml_type}")
        self.tensors.append((name, a.shape, ggml_type, data))

    def write(self, path):
        head = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))]
        for key, payload in self.kv:
            head.append(_string(key) + payload)
        offset = 0
        offsets = []
        for name, shape, gtype, data in self.tensors:
            offsets.append(offset)
            ne = list(reversed(shape))
            head.append(_string(name) + struct.pack("<I", len(ne))
                        + struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", gtype, offset))
            offset += len(data)
            offset += (-offset) % ALIGNMENT
        header = b"".join(head)
        header += b"\0" * ((-len(header)) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(header)
            for (name, shape, gtype, data), off in zip(self.tensors, offsets):
                assert f.tell() - len(header) == off
                f.write(data)
                f.write(b"\0" * ((-len(data)) % ALIGNMENT))


def read_gguf(path):
    """Returns (metadata dict, {name: float32 numpy array in torch shape order})."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return vals if len(vals) > 1 else vals[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def value(vtype):
        if vtype == T_STRING:
            return string()
        if vtype == T_ARRAY:
            etype, count = take("<I"), take("<Q")
            return [value(etype) for _ in range(count)]
        return take(_SCALAR_FMT[vtype])

    assert buf[:4] == GGUF_MAGIC, "not a GGUF file"
    pos = 4
    version, n_tensors, n_kv = take("<I"), take("<Q"), take("<Q")
    assert version == GGUF_VERSION
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        n_dims = take("<I")
        ne = [take("<Q") for _ in range(n_dims)]
        gtype, off = take("<I"), take("<Q")
        infos.append((name, ne, gtype, off))
    align = meta.get("general.alignment", ALIGNMENT)
    data_start = pos + ((-pos) % align)
    tensors = {}
    for name, ne, gtype, off in infos:
        n = int(np.prod(ne))
        start = data_start + off
        if gtype == GGML_F32:
            a = np.frombuffer(buf, dtype="<f4", count=n, offset=start).astype(np.float32)
        elif gtype == GGML_F16:
            a = np.frombuffer(buf, dtype="<f2", count=n, offset=start).astype(np.float32)
        elif gtype == GGML_Q8_0:
            a = dequantize_q8_0(buf[start:start + n // QK8_0 * 34], n)
        else:
            raise ValueError(f"{name}: unsupported type {gtype}")
        tensors[name] = a.reshape(list(reversed(ne)))
    return meta, tensors


def permute_qk(w, n_head):
    """HF (rotate halves) -> GGUF llama (adjacent pairs), as convert_hf_to_gguf.py does."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def unpermute_qk(w, n_head):
    return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


HF_TO_GGUF = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
HF_LAYER_TO_GGUF = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf_name):
    if hf_name in HF_TO_GGUF:
        return HF_TO_GGUF[hf_name]
    parts = hf_name.split(".")
    assert parts[0] == "model" and parts[1] == "layers", hf_name
    return "blk.%s.%s" % (parts[2], HF_LAYER_TO_GGUF[".".join(parts[3:])])


def export_llama(path, cfg, state_dict, tok_meta, name="stemma-faq", weight_type=GGML_Q8_0):
    """cfg: dict of HF config values; state_dict: {hf name: float32 numpy array};
    tok_meta: dict with tokens, token_types, merges, bos_id, eos_id, pad_id, add_bos,
    chat_template, pre."""
    w = GGUFWriter()
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head
    w.add("general.architecture", T_STRING, "llama")
    w.add("general.name", T_STRING, name)
    w.add("general.file_type", T_UINT32,
          LLAMA_FTYPE_MOSTLY_Q8_0 if weight_type == GGML_Q8_0 else LLAMA_FTYPE_MOSTLY_F16)
    w.add("general.quantization_version", T_UINT32, 2)
    w.add("general.alignment", T_UINT32, ALIGNMENT)
    w.add("llama.vocab_size", T_UINT32, cfg["vocab_size"])
    w.add("llama.context_length", T_UINT32, cfg["max_position_embeddings"])
    w.add("llama.embedding_length", T_UINT32, cfg["hidden_size"])
    w.add("llama.block_count", T_UINT32, cfg["num_hidden_layers"])
    w.add("llama.feed_forward_length", T_UINT32, cfg["intermediate_size"])
    w.add("llama.attention.head_count", T_UINT32, n_head)
    w.add("llama.attention.head_count_kv", T_UINT32, n_kv)
    w.add("llama.attention.key_length", T_UINT32, head_dim)
    w.add("llama.attention.value_length", T_UINT32, head_dim)
    w.add("llama.rope.dimension_count", T_UINT32, head_dim)
    w.add("llama.rope.freq_base", T_FLOAT32, float(cfg["rope_theta"]))
    w.add("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, float(cfg["rms_norm_eps"]))
    w.add("tokenizer.ggml.model", T_STRING, "gpt2")
    w.add("tokenizer.ggml.pre", T_STRING, tok_meta["pre"])
    w.add_array("tokenizer.ggml.tokens", T_STRING, tok_meta["tokens"])
    w.add_array("tokenizer.ggml.token_type", T_INT32, tok_meta["token_types"])
    w.add_array("tokenizer.ggml.merges", T_STRING, tok_meta["merges"])
    w.add("tokenizer.ggml.bos_token_id", T_UINT32, tok_meta["bos_id"])
    w.add("tokenizer.ggml.eos_token_id", T_UINT32, tok_meta["eos_id"])
    w.add("tokenizer.ggml.eot_token_id", T_UINT32, tok_meta["eos_id"])
    w.add("tokenizer.ggml.padding_token_id", T_UINT32, tok_meta["pad_id"])
    w.add("tokenizer.ggml.add_bos_token", T_BOOL, bool(tok_meta["add_bos"]))
    w.add("tokenizer.ggml.add_eos_token", T_BOOL, False)
    w.add("tokenizer.chat_template", T_STRING, tok_meta["chat_template"])

    tied = cfg.get("tie_word_embeddings", False)
    order = ["model.embed_tokens.weight"]
    for i in range(cfg["num_hidden_layers"]):
        order += ["model.layers.%d.%s" % (i, k) for k in HF_LAYER_TO_GGUF]
    order += ["model.norm.weight"] + ([] if tied else ["lm_head.weight"])
    for hf in order:
        a = state_dict[hf]
        if hf.endswith("self_attn.q_proj.weight"):
            a = permute_qk(a, n_head)
        elif hf.endswith("self_attn.k_proj.weight"):
            a = permute_qk(a, n_kv)
        w.add_tensor(gguf_name(hf), a, weight_type if a.ndim == 2 else GGML_F32)
    w.write(path)


def gguf_to_hf_state(tensors, cfg):
    """Inverse of export_llama's tensor mapping (for checking the file round-trips)."""
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    inv = {v: k for k, v in HF_TO_GGUF.items()}
    out = {}
    for name, a in tensors.items():
        if name in inv:
            hf = inv[name]
        else:
            _, i, rest = name.split(".", 2)
            hf = "model.layers.%s.%s" % (i, {v: k for k, v in HF_LAYER_TO_GGUF.items()}[rest])
        if hf.endswith("q_proj.weight"):
            a = unpermute_qk(a, n_head)
        elif hf.endswith("k_proj.weight"):
            a = unpermute_qk(a, n_kv)
        out[hf] = a
    return out
