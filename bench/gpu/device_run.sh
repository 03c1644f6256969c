#!/bin/bash
# The CUDA backend on the GPU machine: builds (CUDA on, 16 jobs), runs the gpu-labelled tests,
# compute-sanitizer over the backend test, the HF-native check and the benchmarks named in
# STEPS. Run from the repository root with .devdeps carried (docs/gpu.md); logs go to $OUT.
#   STEPS="build test native sanitize bench"   (default: build test)
set -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
STEPS=${STEPS:-"build test"}
for f in .devdeps/*.deb; do dpkg -x "$f" /opt/deps; done
export PKG_CONFIG_PATH=/opt/deps/usr/lib/x86_64-linux-gnu/pkgconfig
B=/root/build-gpu
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.used,memory.total --format=csv | tee "$OUT/gpu.txt"
if [[ $STEPS == *build* ]]; then
  cmake -S . -B $B -G Ninja -DSTEMMA_CUDA=ON -DSTEMMA_BUILD_TESTS=ON -DSTEMMA_BUILD_BENCH=ON \
    -DCMAKE_PREFIX_PATH=/opt/deps/usr -DCMAKE_CXX_FLAGS="-isystem /opt/deps/usr/include" \
    -DCMAKE_EXE_LINKER_FLAGS="-L/opt/deps/usr/lib/x86_64-linux-gnu -Wl,-rpath,/opt/deps/usr/lib/x86_64-linux-gnu" \
    > "$OUT/build.log" 2>&1 &&
    cmake --build $B -j16 --target stemma backend_cuda_executor_test kernels_paged_attention_test \
      kernels_forward_ops_test kernels_sampling_test attn_plan_test $EXTRA_TARGETS >> "$OUT/build.log" 2>&1 ||
    { grep -E "error|Error" -A3 "$OUT/build.log" | head -60; exit 1; }
fi
if [[ $STEPS == *test* ]]; then
  (cd $B && timeout 900 ctest -L gpu --output-on-failure) 2>&1 | tail -60 | tee "$OUT/tests.log"
  timeout 600 $B/tests/engine/backend/backend_cuda_executor_test 2>&1 | grep -E "MESSAGE|ERROR|CHECK|FAIL|SUCCESS|test cases|assertions" | sed 's/.*MESSAGE: //' | tee "$OUT/cuda_executor.log"
fi
if [[ $STEPS == *native* ]]; then
  PYTHONUNBUFFERED=1 timeout 300 python3 tools/fixtures/check_hf_native.py --stemma $B/cli/stemma \
    --work /tmp/native --out "$OUT/native" 2>&1 | grep -v "Loading weights" | tee "$OUT/native.log"
  tar czf "$OUT/native.tgz" -C "$OUT" native && rm -rf "$OUT/native"
fi
if [[ $STEPS == *sanitize* ]]; then
  timeout 400 compute-sanitizer --tool memcheck --error-exitcode 9 \
    $B/tests/engine/backend/backend_cuda_executor_test -tc="radix*" 2>&1 | tail -5 | tee "$OUT/sanitize.log"
  timeout 400 compute-sanitizer --tool racecheck --error-exitcode 9 \
    $B/tests/engine/backend/backend_cuda_executor_test -tc="radix*" 2>&1 | tail -3 | tee -a "$OUT/sanitize.log"
fi
if [[ $STEPS == *bench* ]]; then
  bash bench/gpu/run_benchmarks.sh $B 2>&1 | tee "$OUT/bench.log"
fi
