#!/usr/bin/env bash
# ThreadSanitizer over the tests of threads and handles (issue 15): engine open/close from many
# threads, handle misuse, the thread pool, the engine's worker and its callers. Builds them in
# build-tsan/ (a unity build, CUDA off) and runs them with every race fatal.
#   scripts/test_tsan.sh            BUILD_DIR (build-tsan), JOBS (nproc), TSAN_TESTS (a regex)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build-tsan}"
jobs="${JOBS:-$(nproc)}"
tests="${TSAN_TESTS:-^(capi_threads_test|capi_errors_test|capi_engine_test|backend_cpu_kernels_test|engine_test)$}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEMMA_TSAN=ON \
    -DSTEMMA_CUDA=OFF -DSTEMMA_BUILD_BENCH=OFF \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
fi
targets=$(echo "$tests" | tr -d '^$()' | tr '|' ' ')
t0=$(date +%s)
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets
echo "test_tsan: built in $(( $(date +%s) - t0 )) s"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
ctest --test-dir "$build" --output-on-failure -j "$jobs" -R "$tests"
