#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/reliability.md) with clang, ASan and UBSan in
# build-fuzz/ and runs each for a bounded time from its committed seed corpus. Any crash, leak,
# UB report or timeout fails the script; the reproducer is left in build-fuzz/findings/<target>/.
#   scripts/fuzz.sh                          # every target, 10 s each (what CI runs)
#   scripts/fuzz.sh --seconds 900 gguf capi  # longer runs of chosen targets
# New corpus entries go to build-fuzz/corpus/<target>/ (the committed seeds are not modified).
# Environment: BUILD_DIR (build-fuzz), CLANG (clang-14), JOBS (nproc), FUZZ_NICE (0; 19 shares
# a busy machine), FUZZ_ARGS (more libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=10
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(gguf safetensors tokenizer_json chat_template constrain capi)
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

clang="${CLANG:-clang-14}"
command -v "$clang" >/dev/null || clang=clang
clangxx="${clang/clang/clang++}"
build="${BUILD_DIR:-build-fuzz}"
jobs="${JOBS:-$(nproc)}"
nice_level="${FUZZ_NICE:-0}"

if [ ! -f "$build/build.ninja" ]; then
  # A unity build: the instrumented libraries compile in about half the time.
  CC="$clang" CXX="$clangxx" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSTEMMA_FUZZ=ON -DSTEMMA_CUDA=OFF -DSTEMMA_BUILD_TESTS=OFF -DSTEMMA_BUILD_BENCH=OFF \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
fi
t0=$(date +%s)
nice -n "$nice_level" cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"
echo "fuzz: built ${targets[*]} in $(( $(date +%s) - t0 )) s"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$corpus" "$findings"
  log="$build/fuzz-$t.log"
  # -rss_limit_mb: an input may not make the process grow past 2 GB; -timeout: nor run 20 s.
  # shellcheck disable=SC2086
  if nice -n "$nice_level" "$build/fuzz/fuzz_$t" "$corpus" "fuzz/corpus/$t" \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
      -artifact_prefix="$findings/" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1; then
    stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -n 1 || true)
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $t ok, $runs runs in ${seconds} s; ${stats#*: }"
  else
    status=1
    echo "fuzz: $t FAILED (log: $log, reproducer in $findings/)"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 20 || true
  fi
done
exit "$status"
