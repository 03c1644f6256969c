#!/usr/bin/env bash
# Sets up, builds and runs every test. Environment knobs:
#   BUILD_DIR (default build), STEMMA_SANITIZE=1 (ASan+UBSan build), STEMMA_CUDA (AUTO|ON|OFF),
#   CTEST_ARGS (extra ctest arguments, e.g. "-L gpu").
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

build_dir="${BUILD_DIR:-build}"
sanitize="${STEMMA_SANITIZE:-0}"
build_type=Release
[ "$sanitize" = "1" ] && build_type=RelWithDebInfo
jobs="${JOBS:-$(nproc)}"

cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DSTEMMA_SANITIZE="$([ "$sanitize" = "1" ] && echo ON || echo OFF)" \
  -DSTEMMA_CUDA="${STEMMA_CUDA:-AUTO}" \
  -DSTEMMA_BUILD_BENCH="${STEMMA_BUILD_BENCH:-ON}"
cmake --build "$build_dir" -j "$jobs"

# The HF reference suite's 4000-token prompts take minutes under the sanitizers: cap them there.
[ "$sanitize" = "1" ] && export STEMMA_REFERENCE_MAX_PROMPT="${STEMMA_REFERENCE_MAX_PROMPT:-1000}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# shellcheck disable=SC2086
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" ${CTEST_ARGS:-}
