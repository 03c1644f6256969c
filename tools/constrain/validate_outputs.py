#!/usr/bin/env python3
"""Validates constrained-decoding outputs against their JSON Schemas with Python's jsonschema.

  validate_outputs.py --outputs FILE.jsonl --schemas DIR [--min-count N]

Each line of FILE is {"schema": "<file in DIR>", "output": "<generated text>"}. Every output
must parse as JSON and validate (format checking on). Exits 77 (skip) if jsonschema is missing.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("jsonschema is not installed (apt: python3-jsonschema); skipping")
    sys.exit(77)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outputs", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--min-count", type=int, default=1)
    args = ap.parse_args()
    validators = {}
    failures = 0
    count = 0
    with open(args.outputs, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            name = rec["schema"]
            if name not in validators:
                with open(os.path.join(args.schemas, name), encoding="utf-8") as sf:
                    schema = json.load(sf)
                cls = jsonschema.validators.validator_for(
                    schema, default=jsonschema.Draft202012Validator)
                validators[name] = cls(schema, format_checker=cls.FORMAT_CHECKER)
            count += 1
            try:
                instance = json.loads(rec["output"])
            except ValueError as e:
                failures += 1
                print("line %d (%s): not JSON (%s): %r" % (n, name, e, rec["output"][:200]))
                continue
            errors = list(validators[name].iter_errors(instance))
            if errors:
                failures += 1
                print("line %d (%s): %s: %r" % (n, name, errors[0].message[:200],
                                                 rec["output"][:300]))
    print("%d outputs, %d schemas, %d invalid" % (count, len(validators), failures))
    if count < args.min_count:
        print("expected at least %d outputs" % args.min_count)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
