#!/usr/bin/env bash
# scripts/check_file_sizes.sh on a scratch repository: a file over 1 MiB is refused unless the
# allow-list names it with a reason; --staged looks at what a commit adds; the real repository
# passes.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
git init -q .
git config user.email test@example.com
git config user.name test
mkdir scripts
cp "$src/scripts/check_file_sizes.sh" scripts/
check() { bash scripts/check_file_sizes.sh "$@" >out.txt 2>&1; }
expect_ok() { if ! check "$@"; then cat out.txt; echo "FAIL: expected success: $*"; exit 1; fi; }
expect_fail() {
  if check "${@:2}"; then cat out.txt; echo "FAIL: expected failure: ${*:2}"; exit 1; fi
  grep -q "$1" out.txt || { cat out.txt; echo "FAIL: message lacks '$1'"; exit 1; }
}

head -c 1048576 /dev/zero >exactly_1mib.bin  # at the limit: fine
echo small >small.txt
git add . && git commit -qm base
expect_ok
expect_ok --staged

head -c 1048577 /dev/zero >big.bin
git add big.bin
expect_fail "big.bin is 1048577 bytes" --staged
expect_fail "big.bin is 1048577 bytes"

echo "big.bin" >scripts/large_files.txt  # listed without a reason
expect_fail "lists big.bin without a reason"
echo "big.bin  fixture that must ship" >scripts/large_files.txt
expect_ok
expect_ok --staged

# The repository itself.
(cd "$src" && bash scripts/check_file_sizes.sh >/dev/null)
echo "check_file_sizes_test: ok"
