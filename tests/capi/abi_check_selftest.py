#!/usr/bin/env python3
"""Checks that capi/abi/abi_check.py fails when it should: it is run against edited copies of
the committed lists (a symbol removed from the list = a new unlisted symbol; a symbol whose
prototype changed; a layout entry that moved; a symbol listed that the library lacks = removed)
and must exit nonzero naming the entry, and succeed on the unedited copy."""
import os
import shutil
import subprocess
import sys
import tempfile

script, header, library, dump, abi_dir = sys.argv[1:6]


def run(d):
    p = subprocess.run([sys.executable, script, "--header", header, "--library", library,
                        "--dump", dump, "--abi-dir", d], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def edited(name, edit):
    d = tempfile.mkdtemp()
    for f in ("symbols.txt", "layout.txt"):
        shutil.copy(os.path.join(abi_dir, f), d)
    path = os.path.join(d, name)
    lines = open(path).read().splitlines()
    open(path, "w").write("\n".join(edit(lines)) + "\n")
    return d


failures = []
rc, out = run(edited("symbols.txt", lambda l: l))
if rc != 0:
    failures.append("unedited lists should pass:\n" + out)


def drop(prefix):
    return lambda lines: [x for x in lines if not x.startswith(prefix)]


def change(prefix, new):
    return lambda lines: [new if x.startswith(prefix) else x for x in lines]


cases = [
    ("symbols.txt", drop("stemma_generate:"), "'stemma_generate' is not listed"),
    ("symbols.txt", change("stemma_tokenize:", "stemma_tokenize: stemma_status (void)"),
     "ABI break: symbol 'stemma_tokenize' changed"),
    ("symbols.txt", lambda l: l + ["stemma_removed_function: void (void)"],
     "ABI break: symbol 'stemma_removed_function' was removed"),
    ("symbols.txt", change("typedef stemma_stream_fn:", "typedef stemma_stream_fn: void (*)(void)"),
     "ABI break: symbol 'typedef stemma_stream_fn' changed"),
    ("layout.txt", change("field stemma_gen_options.seed:", "field stemma_gen_options.seed: offset 28 size 8"),
     "ABI break: layout entry 'field stemma_gen_options.seed' changed"),
    ("layout.txt", change("struct stemma_gen_options:", "struct stemma_gen_options: size 4096"),
     "ABI break: layout entry 'struct stemma_gen_options' changed"),
    ("layout.txt", change("const STEMMA_CANCELLED:", "const STEMMA_CANCELLED: 11"),
     "ABI break: layout entry 'const STEMMA_CANCELLED' changed"),
]
for name, edit, expect in cases:
    rc, out = run(edited(name, edit))
    if rc == 0 or expect not in out:
        failures.append(f"expected failure with {expect!r}, got rc={rc}:\n{out}")
# A struct that grew since the lists were written (fields appended) is not a break.
rc, out = run(edited("layout.txt", change("struct stemma_gen_options:",
                                          "struct stemma_gen_options: size 8")))
if rc != 0:
    failures.append("a struct that grew should pass:\n" + out)
if failures:
    print("\n\n".join(failures))
    sys.exit(1)
print(f"abi_check selftest: unedited lists pass, {len(cases)} edits detected")
