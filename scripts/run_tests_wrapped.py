#!/usr/bin/env python3
"""Runs tests of a configured CTest build dir through a wrapper command (an emulator such as
`qemu-x86_64 -cpu Haswell-v4`) with extra environment variables, in parallel, and reports each
test's time. CTest itself cannot prefix a command, so the test list, commands, working
directories, environments and timeouts come from `ctest --show-only=json-v1`.

  scripts/run_tests_wrapped.py --build build --regex 'backend_cpu|engine_' \\
      --wrapper 'qemu-x86_64 -cpu Haswell-v4' --env STEMMA_EXPECT_ISA=avx2 [--timeout-scale 20]
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--regex", required=True, help="tests whose name matches (re.search)")
    ap.add_argument("--exclude", default="", help="tests whose name matches are skipped")
    ap.add_argument("--wrapper", default="", help="command put before each test's command")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for every test")
    ap.add_argument("--timeout-scale", type=float, default=1.0)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    info = json.loads(subprocess.run(["ctest", "--test-dir", args.build, "--show-only=json-v1"],
                                     check=True, capture_output=True, text=True).stdout)
    tests = []
    for t in info["tests"]:
        name = t["name"]
        if not re.search(args.regex, name) or (args.exclude and re.search(args.exclude, name)):
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if props.get("DISABLED"):
            continue
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v
        for kv in args.env:
            k, _, v = kv.partition("=")
            env[k] = v
        tests.append({
            "name": name,
            "command": shlex.split(args.wrapper) + t["command"],
            "cwd": props.get("WORKING_DIRECTORY", args.build),
            "env": env,
            "timeout": float(props.get("TIMEOUT", 1500)) * args.timeout_scale,
            "skip_code": props.get("SKIP_RETURN_CODE"),
        })
    if not tests:
        print(f"run_tests_wrapped: no test matches {args.regex!r}", file=sys.stderr)
        return 1

    def run(t):
        t0 = time.monotonic()
        try:
            p = subprocess.run(t["command"], cwd=t["cwd"], env=t["env"], timeout=t["timeout"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace")
            code, out = p.returncode, p.stdout
        except subprocess.TimeoutExpired as e:
            partial = e.stdout or ""
            if isinstance(partial, bytes):
                partial = partial.decode(errors="replace")
            code, out = "timeout", partial
        return t, code, out, time.monotonic() - t0

    failed = []
    t_all = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for t, code, out, secs in pool.map(run, tests):
            skipped = t["skip_code"] is not None and code == int(t["skip_code"])
            status = "skipped" if skipped else ("ok" if code == 0 else f"FAILED ({code})")
            print(f"{t['name']:<50} {status:<14} {secs:7.1f} s", flush=True)
            if code != 0 and not skipped:
                failed.append(t["name"])
                print(out[-6000:])
    print(f"run_tests_wrapped: {len(tests) - len(failed)}/{len(tests)} passed in "
          f"{time.monotonic() - t_all:.1f} s (wrapper: {args.wrapper or 'none'}; "
          f"env: {' '.join(args.env) or 'none'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
