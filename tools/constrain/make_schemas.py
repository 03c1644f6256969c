#!/usr/bin/env python3
"""Writes the constrained-decoding test set: JSON Schemas and valid instances of them.

  python3 tools/constrain/make_schemas.py [--out tests/fixtures/constrain]

Schemas: the hand-written ones in realistic_schemas.py plus seeded random ones (objects, arrays,
enums, formats, ranges, unions, $defs, recursion). Instances: a seeded generator that follows
Stemma's output policy (compact JSON, properties in schema order, no extra properties), each
checked with Python's jsonschema (with format checking) before it is written. Deterministic:
running it again writes the same files.
"""
import argparse
import copy
import json
import os
import random
import string
import uuid as uuidlib

import jsonschema

from realistic_schemas import SCHEMAS as REALISTIC

# Patterns used in schemas, each with a sampler of matching strings.
PATTERN_SAMPLERS = {
    "^[0-9]{5}$": lambda r: "".join(r.choice(string.digits) for _ in range(5)),
    "^[A-Z]{3}-[0-9]{4}$": lambda r: "".join(r.choice(string.ascii_uppercase) for _ in range(3))
    + "-" + "".join(r.choice(string.digits) for _ in range(4)),
    "^INV-[0-9]{6}$": lambda r: "INV-" + "".join(r.choice(string.digits) for _ in range(6)),
    "^[a-z][a-z0-9_]{0,15}$": lambda r: r.choice(string.ascii_lowercase)
    + "".join(r.choice(string.ascii_lowercase + string.digits + "_") for _ in range(r.randint(0, 15))),
    "^/[a-z0-9/_-]{0,40}$": lambda r: "/" + "".join(r.choice("abcxyz019/_-") for _ in range(r.randint(0, 40))),
    "^\\+?[0-9]{7,12}$": lambda r: r.choice(["", "+"]) + "".join(r.choice(string.digits) for _ in range(r.randint(7, 12))),
    "^#[0-9a-fA-F]{6}$": lambda r: "#" + "".join(r.choice("0123456789abcdefABCDEF") for _ in range(6)),
    "^v[0-9]+\\.[0-9]+\\.[0-9]+$": lambda r: "v%d.%d.%d" % (r.randint(0, 20), r.randint(0, 99), r.randint(0, 999)),
    "[a-z]+@corp": lambda r: "".join(r.choice("xyz ") for _ in range(r.randint(0, 3))) + "".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(1, 6))) + "@corp" + r.choice(["", ".io", " x"]),
    "^(yes|no|maybe)$": lambda r: r.choice(["yes", "no", "maybe"]),
}

WORDS = ("id name title description status count price amount total city country email "
         "created updated tags items owner score level kind type value label notes url phone "
         "color version enabled active priority category region unit size weight height width "
         "start end date time author text summary rating age code key").split()

FORMATS = ["date", "date-time", "time", "email", "uuid", "ipv4"]

STRING_ALPHABET = (string.ascii_letters + string.digits + " .,:;!?-_/'\"\\\n\t" +
                   "éüß中文日本😀ñ€")

MAX_REF_DEPTH = 3  # Stemma's default max_recursion_depth
FREE_DEPTH = 2     # nesting of containers in generated free values (Stemma allows 3)


class Impossible(Exception):
    pass


# ---------------------------------------------------------------- random schemas

def random_schema(r, depth, defs):
    kinds = ["string", "integer", "number", "boolean", "enum", "const", "format", "pattern",
             "nullable"]
    if depth < 3:
        kinds += ["object"] * 3 + ["array"] * 2 + ["anyOf", "oneOf", "map", "tuple", "ref"]
    k = r.choice(kinds)
    if k == "string":
        s = {"type": "string"}
        if r.random() < 0.5:
            s["minLength"] = r.randint(0, 5)
        if r.random() < 0.5:
            s["maxLength"] = s.get("minLength", 0) + r.randint(0, 30)
        return s
    if k == "integer":
        s = {"type": "integer"}
        lo = r.choice([None, 0, 1, -100, 18, 1000, -5])
        hi = r.choice([None, 10, 100, 65535, 999999, 5])
        if lo is not None:
            s["minimum"] = lo
        if hi is not None and (lo is None or hi >= lo):
            s["maximum"] = hi
        if r.random() < 0.15:
            s = {"type": "integer", "exclusiveMinimum": r.choice([0, 7]),
                 "exclusiveMaximum": r.choice([50, 1000])}
        return s
    if k == "number":
        s = {"type": "number"}
        if r.random() < 0.6:
            s["minimum"] = r.choice([0, -10, 1, -1000])
        if r.random() < 0.4:
            s["maximum"] = s.get("minimum", 0) + r.choice([1, 10, 100, 5000])
        return s
    if k == "boolean":
        return {"type": "boolean"}
    if k == "enum":
        pool = [r.choice(WORDS) for _ in range(r.randint(1, 6))]
        if r.random() < 0.3:
            pool += [r.randint(-5, 100), None, True]
        vals = []
        for v in pool:
            if v not in vals:
                vals.append(v)
        return {"enum": vals}
    if k == "const":
        return {"const": r.choice([r.choice(WORDS), r.randint(0, 9), True, None])}
    if k == "format":
        return {"type": "string", "format": r.choice(FORMATS)}
    if k == "pattern":
        return {"type": "string", "pattern": r.choice(sorted(PATTERN_SAMPLERS))}
    if k == "nullable":
        inner = random_schema(r, 3, defs)
        if "type" in inner and isinstance(inner["type"], str) and inner["type"] != "null":
            inner["type"] = [inner["type"], "null"]
            return inner
        return {"anyOf": [inner, {"type": "null"}]}
    if k == "object":
        n = r.randint(1, 7)
        names = []
        while len(names) < n:
            w = r.choice(WORDS)
            if w not in names:
                names.append(w)
        props = {w: random_schema(r, depth + 1, defs) for w in names}
        req = [w for w in names if r.random() < 0.5]
        s = {"type": "object", "properties": props}
        if req:
            s["required"] = req
        if r.random() < 0.4:
            s["additionalProperties"] = False
        if r.random() < 0.3:
            s["description"] = "A " + r.choice(WORDS) + " record."
        return s
    if k == "array":
        s = {"type": "array", "items": random_schema(r, depth + 1, defs)}
        if r.random() < 0.5:
            s["minItems"] = r.randint(0, 2)
        if r.random() < 0.6:
            s["maxItems"] = s.get("minItems", 0) + r.randint(0, 5)
        return s
    if k == "map":
        return {"type": "object", "additionalProperties": random_schema(r, 3, defs)}
    if k == "tuple":
        s = {"type": "array",
             "prefixItems": [random_schema(r, 3, defs) for _ in range(r.randint(1, 3))]}
        if r.random() < 0.5:
            s["items"] = False
        else:
            s["items"] = random_schema(r, 3, defs)
            s["maxItems"] = len(s["prefixItems"]) + r.randint(0, 3)
        if r.random() < 0.5:
            s["minItems"] = len(s["prefixItems"])
        return s
    if k == "anyOf":
        return {"anyOf": [random_schema(r, depth + 1, defs) for _ in range(r.randint(2, 3))]}
    if k == "oneOf":
        # Discriminated union: disjoint by construction.
        tags = r.sample(WORDS, r.randint(2, 3))
        branches = []
        for t in tags:
            b = random_schema(r, 2, defs)
            if b.get("type") != "object" or "properties" not in b:
                b = {"type": "object", "properties": {"value": b}}
            b = copy.deepcopy(b)
            b["properties"] = {"kind": {"const": t}, **b["properties"]}
            b["required"] = ["kind"] + [x for x in b.get("required", []) if x != "kind"]
            b["additionalProperties"] = False
            branches.append(b)
        return {"oneOf": branches}
    if k == "ref":
        name = "def%d" % len(defs)
        defs[name] = None  # reserve
        defs[name] = random_schema(r, depth + 1, defs)
        return {"$ref": "#/$defs/" + name}
    raise AssertionError(k)


def recursive_schema(r, i):
    leaf = random_schema(r, 3, {})
    node = {"type": "object",
            "properties": {"label": leaf,
                           "children": {"type": "array", "items": {"$ref": "#/$defs/node"},
                                        "maxItems": r.randint(1, 3)}},
            "required": ["label"] + (["children"] if r.random() < 0.5 else [])}
    if r.random() < 0.5:
        node["additionalProperties"] = False
    return {"$defs": {"node": node}, "$ref": "#/$defs/node"}


# ---------------------------------------------------------------- instances

def resolve(root, ref):
    assert ref.startswith("#")
    node = root
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def merge(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return b if a is True else a if b is True else False
    out = copy.deepcopy(a)
    for k, v in b.items():
        if k not in out:
            out[k] = copy.deepcopy(v)
        elif k == "properties":
            for p, ps in v.items():
                out[k][p] = ps if p not in out[k] else {"allOf": [out[k][p], ps]}
        elif k == "required":
            out[k] = out[k] + [x for x in v if x not in out[k]]
        elif out[k] != v:
            raise AssertionError("merge conflict on " + k)
    return out


def free_value(r, depth):
    choices = ["s", "n", "b", "null"] + (["o", "a"] if depth > 0 else [])
    c = r.choice(choices)
    if c == "s":
        return random_string(r, 0, 8)
    if c == "n":
        return r.choice([r.randint(-1000, 1000), round(r.uniform(-100, 100), 2)])
    if c == "b":
        return r.random() < 0.5
    if c == "null":
        return None
    if c == "o":
        return {random_string(r, 0, 6): free_value(r, depth - 1) for _ in range(r.randint(0, 3))}
    return [free_value(r, depth - 1) for _ in range(r.randint(0, 3))]


def random_string(r, lo, hi):
    return "".join(r.choice(STRING_ALPHABET) for _ in range(r.randint(lo, hi)))


def date(r):
    y = r.randint(1, 9999)
    m = r.randint(1, 12)
    d = r.randint(1, [31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30,
                      31, 30, 31, 31, 30, 31, 30, 31][m - 1])
    return "%04d-%02d-%02d" % (y, m, d)


def time_(r):
    t = "%02d:%02d:%02d" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))
    if r.random() < 0.3:
        t += "." + str(r.randint(0, 999999))
    return t + r.choice(["Z", "+02:00", "-05:30"])


FORMAT_SAMPLERS = {
    "date": date,
    "time": time_,
    "date-time": lambda r: date(r) + "T" + time_(r),
    "email": lambda r: r.choice(["alice", "bob.smith", "x_y+z", "j9"]) + "@" +
    r.choice(["example", "mail-host", "corp"]) + r.choice([".com", ".org", ".co.uk"]),
    "uuid": lambda r: str(uuidlib.UUID(int=r.getrandbits(128))),
    "ipv4": lambda r: ".".join(str(r.randint(0, 255)) for _ in range(4)),
}


def types_of(s):
    t = s.get("type")
    if t is None:
        for k in ("properties", "required", "additionalProperties"):
            if k in s:
                return ["object"]
        for k in ("items", "prefixItems", "minItems", "maxItems"):
            if k in s:
                return ["array"]
        for k in ("minLength", "maxLength", "pattern", "format"):
            if k in s:
                return ["string"]
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if k in s:
                return ["number"]
        return ["any"]
    return [t] if isinstance(t, str) else list(t)


def has_type(v, t):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    return True


def gen(r, s, root, refs):
    if s is True:
        return free_value(r, FREE_DEPTH)
    if s is False:
        raise Impossible()
    if "$ref" in s:
        ref = s["$ref"]
        if refs.get(ref, 0) >= MAX_REF_DEPTH:
            raise Impossible()
        target = resolve(root, ref)
        rest = {k: v for k, v in s.items() if k != "$ref"}
        refs = dict(refs)
        refs[ref] = refs.get(ref, 0) + 1
        return gen(r, merge(target, rest) if rest else target, root, refs)
    if "allOf" in s:
        m = {k: v for k, v in s.items() if k != "allOf"}
        for b in s["allOf"]:
            while isinstance(b, dict) and "$ref" in b:
                b = merge(resolve(root, b["$ref"]), {k: v for k, v in b.items() if k != "$ref"})
            m = merge(m, b)
        return gen(r, m, root, refs)
    for key in ("anyOf", "oneOf"):
        if key in s:
            base = {k: v for k, v in s.items() if k != key}
            order = list(range(len(s[key])))
            r.shuffle(order)
            for i in order:
                try:
                    b = s[key][i]
                    return gen(r, merge(base, b) if base else b, root, refs)
                except Impossible:
                    continue
            raise Impossible()
    if "const" in s or "enum" in s:
        vals = [s["const"]] if "const" in s else list(s["enum"])
        if "type" in s:
            vals = [v for v in vals if any(has_type(v, t) for t in types_of(s))]
        if not vals:
            raise Impossible()
        return r.choice(vals)
    t = r.choice(types_of(s))
    if t == "any":
        return free_value(r, FREE_DEPTH)
    if t == "null":
        return None
    if t == "boolean":
        return r.random() < 0.5
    if t == "string":
        if "format" in s:
            return FORMAT_SAMPLERS[s["format"]](r)
        if "pattern" in s:
            return PATTERN_SAMPLERS[s["pattern"]](r)
        lo = s.get("minLength", 0)
        hi = s.get("maxLength", lo + 12)
        return random_string(r, lo, min(hi, lo + 12))
    if t in ("integer", "number"):
        lo = s.get("minimum", -10**6)
        hi = s.get("maximum", 10**6)
        if "exclusiveMinimum" in s:
            lo = max(lo, s["exclusiveMinimum"] + 1)
        if "exclusiveMaximum" in s:
            hi = min(hi, s["exclusiveMaximum"] - 1)
        if t == "integer" or r.random() < 0.3:
            return r.randint(lo, hi)
        v = round(r.uniform(lo, hi), 2)
        return min(max(v, lo), hi) if abs(v) >= 0.01 else 0.0
    if t == "object":
        props = s.get("properties", {})
        req = s.get("required", [])
        out = {}
        if not props:
            addl = s.get("additionalProperties", True)
            if addl is False:
                return {}
            for _ in range(r.randint(0, 3)):
                k = random_string(r, 0, 8)
                try:
                    out[k] = free_value(r, FREE_DEPTH - 1) if addl is True else gen(r, addl, root, refs)
                except Impossible:
                    pass
            return out
        for name, ps in props.items():
            if name in req:
                out[name] = gen(r, ps, root, refs)
            elif r.random() < 0.6:
                try:
                    out[name] = gen(r, ps, root, refs)
                except Impossible:
                    pass
        return out
    if t == "array":
        prefix = s.get("prefixItems")
        rest = s.get("items", True)
        if isinstance(rest, list):
            prefix, rest = rest, s.get("additionalItems", True)
        prefix = prefix or []
        lo = s.get("minItems", 0)
        hi = s.get("maxItems", max(lo, len(prefix)) + 3)
        n = r.randint(lo, min(hi, max(lo, len(prefix)) + 3))
        if rest is False:
            n = min(n, len(prefix))
        out = []
        for i in range(n):
            try:
                out.append(gen(r, prefix[i] if i < len(prefix) else rest, root, refs))
            except Impossible:
                if len(out) >= lo:
                    break
                raise
        return out
    raise AssertionError(t)


def dumps(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def validator(schema):
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "fixtures", "constrain"))
    ap.add_argument("--random", type=int, default=175)
    ap.add_argument("--instances", type=int, default=3)
    args = ap.parse_args()
    r = random.Random(20261123)
    schemas = list(REALISTIC)
    for i in range(args.random):
        if i % 12 == 5:
            schemas.append(("random_tree_%03d" % i, recursive_schema(r, i)))
            continue
        defs = {}
        s = random_schema(r, 0, defs)
        while not isinstance(s, dict) or s.get("type") not in ("object", "array"):
            s = random_schema(r, 0, defs)
        if defs:
            s = dict(s)
            s["$defs"] = defs
        schemas.append(("random_%03d" % i, s))
    sdir = os.path.join(args.out, "schemas")
    os.makedirs(sdir, exist_ok=True)
    for f in os.listdir(sdir):
        if f.endswith(".json"):
            os.remove(os.path.join(sdir, f))
    lines = []
    for idx, (name, schema) in enumerate(schemas):
        fname = "%03d_%s.json" % (idx, name)
        with open(os.path.join(sdir, fname), "w", encoding="utf-8") as f:
            json.dump(schema, f, ensure_ascii=False, indent=1)
            f.write("\n")
        v = validator(schema)
        made = 0
        for attempt in range(args.instances * 10):
            if made == args.instances:
                break
            try:
                inst = gen(r, schema, schema, {})
            except Impossible:
                continue
            errors = list(v.iter_errors(inst))
            if errors:
                raise SystemExit("generator bug: %s instance %s: %s" % (fname, dumps(inst), errors[0].message))
            lines.append(dumps({"schema": fname, "text": dumps(inst)}))
            made += 1
        if made == 0:
            raise SystemExit("no instance for " + fname)
    with open(os.path.join(args.out, "instances.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("%d schemas, %d instances" % (len(schemas), len(lines)))


if __name__ == "__main__":
    main()
