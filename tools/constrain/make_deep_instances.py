#!/usr/bin/env python3
"""Writes deeply nested valid instances of the recursive JSON Schemas (and a few more recursive
schemas) for the grammar (pushdown) path of constrained decoding.

  python3 tools/constrain/make_deep_instances.py [--out tests/fixtures/constrain]

Recursive schemas: every fixture in schemas/ with a $ref cycle, plus the hand-written ones in
RECURSIVE below (mutual recursion, recursion through anyOf/oneOf, "$ref": "#", a recursive
value that can end in a number), written to schemas/recursive/. Instances: make_schemas.py's
generator, except that a $ref may nest far past its depth limit of 3 along one path (a
"spine": each nesting level past the third is taken by one branch only, so instances stay
small); kept when the nesting reaches the target depth, checked with Python's jsonschema
(format checking on), written to deep_instances.jsonl as {"schema", "text", "depth"} with
schema paths relative to schemas/. Deterministic: running it again writes the same files.
"""
import argparse
import json
import os
import random

import make_schemas as ms

RECURSIVE = [
    ("expression_tree", {
        "$defs": {
            "expr": {"anyOf": [{"type": "integer", "minimum": -99, "maximum": 99},
                               {"$ref": "#/$defs/binary"},
                               {"$ref": "#/$defs/call"}]},
            "binary": {"type": "object",
                       "properties": {"op": {"enum": ["+", "-", "*", "/"]},
                                      "left": {"$ref": "#/$defs/expr"},
                                      "right": {"$ref": "#/$defs/expr"}},
                       "required": ["op", "left", "right"], "additionalProperties": False},
            "call": {"type": "object",
                     "properties": {"fn": {"enum": ["abs", "max", "min"]},
                                    "args": {"type": "array", "items": {"$ref": "#/$defs/expr"},
                                             "minItems": 1, "maxItems": 3}},
                     "required": ["fn", "args"], "additionalProperties": False},
        },
        "$ref": "#/$defs/expr",
    }),
    ("nested_lists", {
        "$defs": {"value": {"anyOf": [{"type": "integer"},
                                      {"type": "array", "items": {"$ref": "#/$defs/value"},
                                       "maxItems": 3}]}},
        "$ref": "#/$defs/value",
    }),
    ("self_ref_root", {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 8}, "next": {"$ref": "#"}},
        "required": ["name"],
        "additionalProperties": False,
    }),
    ("mutual_person_company", {
        "$defs": {
            "person": {"type": "object",
                       "properties": {"name": {"type": "string", "maxLength": 12},
                                      "employer": {"$ref": "#/$defs/company"}},
                       "required": ["name"], "additionalProperties": False},
            "company": {"type": "object",
                        "properties": {"title": {"type": "string", "maxLength": 12},
                                       "ceo": {"$ref": "#/$defs/person"}},
                        "required": ["title"], "additionalProperties": False},
        },
        "$ref": "#/$defs/person",
    }),
    ("oneof_tagged_tree", {
        "$defs": {"node": {"oneOf": [
            {"type": "object",
             "properties": {"kind": {"const": "leaf"}, "value": {"type": "boolean"}},
             "required": ["kind", "value"], "additionalProperties": False},
            {"type": "object",
             "properties": {"kind": {"const": "pair"}, "left": {"$ref": "#/$defs/node"},
                            "right": {"$ref": "#/$defs/node"}},
             "required": ["kind", "left", "right"], "additionalProperties": False},
        ]}},
        "$ref": "#/$defs/node",
    }),
    ("menu_with_siblings", {
        "$defs": {"menu": {"type": "object",
                           "properties": {"label": {"type": "string", "maxLength": 10},
                                          "items": {"type": "array",
                                                    "items": {"$ref": "#/$defs/menu",
                                                              "description": "a submenu"},
                                                    "maxItems": 2}},
                           "required": ["label", "items"], "additionalProperties": False}},
        "type": "object",
        "properties": {"menu": {"$ref": "#/$defs/menu"}, "version": {"type": "integer"}},
        "required": ["menu"],
    }),
]

TARGET_DEPTHS = [5, 8, 12]  # one instance each (where the schema can reach it)


def refs_in(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs_in(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs_in(v)


def is_recursive(schema):
    """True when some $ref can reach itself (through the schemas it points at)."""
    graph = {}
    todo = list(refs_in(schema))
    while todo:
        ref = todo.pop()
        if ref in graph or not ref.startswith("#"):
            continue
        graph[ref] = set(refs_in(ms.resolve(schema, ref)))
        todo.extend(graph[ref])

    def reaches(src, dst, seen):
        for nxt in graph.get(src, ()):
            if nxt == dst:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(nxt, dst, seen):
                    return True
        return False

    return any(reaches(ref, ref, set()) for ref in graph)


LEAF = " leaf"  # a key no $ref has


class Spine:
    """make_schemas.gen with a $ref allowed up to `limit` levels; past make_schemas' depth
    limit one node per level goes on deeper (the spine), its siblings hold no $ref.
    `reached` is the deepest nesting of one $ref in what was generated (work discarded by a
    failed call does not count)."""

    def __init__(self, limit):
        self.limit = limit
        self.used = set()
        self.reached = 0

    def gen(self, r, s, root, refs):
        # Work inside a call that fails is discarded by the caller: so are its claims.
        saved = (self.reached, set(self.used))
        try:
            return self._gen(r, s, root, refs)
        except ms.Impossible:
            self.reached, self.used = saved
            raise

    def _gen(self, r, s, root, refs):
        if isinstance(s, dict) and "$ref" in s:
            ref = s["$ref"]
            level = refs.get(ref, 0)
            if level >= self.limit or LEAF in refs:
                raise ms.Impossible()
            refs = dict(refs)
            if level >= ms.MAX_REF_DEPTH - 1:
                if (ref, level) in self.used:
                    refs[LEAF] = 1  # a sibling of the spine: no $ref below it
                else:
                    self.used.add((ref, level))
            target = ms.resolve(root, ref)
            rest = {k: v for k, v in s.items() if k != "$ref"}
            refs[ref] = level + 1
            out = self.gen(r, ms.merge(target, rest) if rest else target, root, refs)
            self.reached = max(self.reached, level + 1)
            return out
        return ORIGINAL_GEN(r, s, root, refs)


ORIGINAL_GEN = ms.gen


def nesting(text):
    """Deepest bracket nesting of a JSON text (outside strings)."""
    depth = best = 0
    in_str = esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
    return best


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "fixtures", "constrain"))
    args = ap.parse_args()
    sdir = os.path.join(args.out, "schemas")
    rdir = os.path.join(sdir, "recursive")
    os.makedirs(rdir, exist_ok=True)
    for f in os.listdir(rdir):
        if f.endswith(".json"):
            os.remove(os.path.join(rdir, f))
    schemas = []
    for f in sorted(os.listdir(sdir)):
        if f.endswith(".json"):
            with open(os.path.join(sdir, f), encoding="utf-8") as fh:
                s = json.load(fh)
            if is_recursive(s):
                schemas.append((f, s))
    for name, s in RECURSIVE:
        assert is_recursive(s), name
        rel = "recursive/%s.json" % name
        with open(os.path.join(sdir, rel), "w", encoding="utf-8") as fh:
            json.dump(s, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        schemas.append((rel, s))

    r = random.Random(20261124)
    lines = []
    for rel, schema in schemas:
        v = ms.validator(schema)
        made = 0
        for target in TARGET_DEPTHS:
            for attempt in range(3000):
                spine = Spine(target)
                ms.gen = spine.gen  # the generator's own recursive calls come back here
                try:
                    inst = spine.gen(r, schema, schema, {})
                except ms.Impossible:
                    continue
                finally:
                    ms.gen = ORIGINAL_GEN
                if spine.reached < target:
                    continue
                errors = list(v.iter_errors(inst))
                if errors:
                    raise SystemExit("generator bug: %s: %s" % (rel, errors[0].message))
                text = ms.dumps(inst)
                lines.append(ms.dumps({"schema": rel, "text": text, "depth": spine.reached,
                                       "nesting": nesting(text)}))
                made += 1
                break
        if made == 0:
            raise SystemExit("no deep instance for " + rel)
    with open(os.path.join(args.out, "deep_instances.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("%d recursive schemas (%d new), %d deep instances" % (len(schemas), len(RECURSIVE),
                                                               len(lines)))


if __name__ == "__main__":
    main()
