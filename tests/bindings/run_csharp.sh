#!/usr/bin/env bash
# ctest bindings_csharp: compiles bindings/csharp (Stemma.dll) and its test runner with mcs
# and runs them on mono against libstemma.so.
. "$(dirname "$0")/common.sh"
if ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1; then
  echo "SKIP: mono is not installed (scripts/setup.sh installs mono-mcs and mono-runtime)"
  exit 77
fi
cs="$src_dir/bindings/csharp"
mono --version | head -n 1
mcs -target:library -out:"$work_dir/Stemma.dll" -warnaserror+ -warn:4 -debug "$cs"/src/*.cs
mcs -target:exe -out:"$work_dir/StemmaTests.exe" -r:"$work_dir/Stemma.dll" -r:System.Core.dll \
  -warnaserror+ -warn:4 -debug "$cs"/tests/*.cs
cd "$work_dir"
# Under ASan libstemma.so is preloaded too: mono unloads the libraries it opened at exit, and the
# library's statics would then be reported as leaks.
EXTRA_PRELOAD="$lib_dir/libstemma.so" run_tests mono --debug "$work_dir/StemmaTests.exe"
