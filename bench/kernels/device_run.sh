#!/bin/bash
# Builds the kernel targets on the GPU machine, runs the gpu tests, the calibration, the bench
# matrix and Nsight Compute on a few configurations; logs go to $OUT. Run from the worktree root
# after unpacking .devdeps into /opt/deps (see docs/kernels.md).
set -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
STEPS=${STEPS:-"build test sanitize roofline bench ncu"}
export PKG_CONFIG_PATH=/opt/deps/usr/lib/x86_64-linux-gnu/pkgconfig
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.used --format=csv | tee "$OUT/gpu.txt"
if [[ $STEPS == *build* ]]; then
  cmake -S . -B build -G Ninja -DSTEMMA_CUDA=ON -DSTEMMA_BUILD_TESTS=ON \
    -DCMAKE_PREFIX_PATH=/opt/deps/usr > "$OUT/build.log" 2>&1 &&
  cmake --build build -j16 --target kernels_paged_attention_test attn_plan_test \
    kernels_forward_ops_test kernels_sampling_test stemma_bench_kernels $EXTRA_TARGETS >> "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }
fi
if [[ $STEPS == *test* ]]; then
  (cd build && timeout 300 ctest -L gpu --output-on-failure) 2>&1 | tee "$OUT/tests.log"
  for t in build/tests/kernels/kernels_*_test; do timeout 200 $t 2>&1 | tail -40; done > "$OUT/tests_detail.log"
fi
if [[ $STEPS == *sanitize* ]]; then
  for t in "kernels_forward_ops_test" "kernels_sampling_test" "kernels_paged_attention_test -tc=causal*"; do
    timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 build/tests/kernels/$t 2>&1 | tail -4
    echo "sanitize $t rc=$?"
  done | tee "$OUT/sanitize.log"
  timeout 150 compute-sanitizer --tool racecheck --error-exitcode 9 \
    build/tests/kernels/kernels_paged_attention_test -tc=causal* 2>&1 | tail -3 | tee -a "$OUT/sanitize.log"
fi
B=build/bench/kernels/stemma_bench_kernels
if [[ $STEPS == *roofline* ]]; then timeout 200 $B --roofline 2>&1 | tee "$OUT/roofline.csv"; fi
if [[ $STEPS == *bench* ]]; then timeout 300 $B $BENCH_ARGS 2>&1 | tee "$OUT/bench.csv"; fi
if [[ $STEPS == *ncu* ]]; then
  for run in "model=llama,batch=64,prefix=4096,suffix=16,groups=1,depth=1,mode=base" \
             "model=llama,batch=64,prefix=4096,suffix=16,groups=1,depth=1,mode=shared" \
             "model=llama,batch=64,prefix=32768,suffix=16,groups=1,depth=1,mode=base" \
             "model=llama,batch=64,prefix=32768,suffix=16,groups=1,depth=1,mode=shared" \
             "model=llama,batch=32,prefix=0,suffix=32768,groups=1,depth=1,mode=base" \
             "model=llama,batch=1,prefix=0,suffix=32768,groups=1,depth=1,mode=base"; do
    timeout 100 ncu --clock-control none -k regex:paged_attention --launch-skip 3 --launch-count 1 \
      --metrics dram__bytes_read.sum,dram__bytes_write.sum,gpu__time_duration.sum,lts__t_sector_hit_rate.pct,lts__t_sectors_op_read.sum \
      $B --single "$run" 2>&1 | grep -E "single|dram__|gpu__time|lts__|ERR" | tee -a "$OUT/ncu.log"
  done
  # Occupancy and tensor-pipe use of the shared-prefix kernel (what limits it).
  timeout 100 ncu --clock-control none -k regex:paged_attention --launch-skip 3 --launch-count 1 \
    --metrics sm__warps_active.avg.pct_of_peak_sustained_active,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__registers_per_thread,smsp__inst_executed.sum \
    $B --single "model=llama,batch=64,prefix=32768,suffix=16,groups=1,depth=1,mode=shared" 2>&1 \
    | grep -E "single|sm__|launch__|smsp__|ERR" | tee -a "$OUT/ncu.log"
fi
