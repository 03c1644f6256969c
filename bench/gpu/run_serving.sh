#!/bin/bash
# Issue 14's serving figures on the GPU machine (docs/gpu.md "Shared-prefix serving"): builds the
# stemma CLI, makes a seeded random Llama-3.1-8B-shaped model in HF's format (both engines load
# it), and runs the steps named in STEPS, each writing JSON under $OUT:
#   gsp2k gsp8k gsp32k  SGLang's generated-shared-prefix workload (16 prompts a group, 128-token
#                       questions, 256 output tokens; 64 groups at 2k, fewer at 8k/32k so that
#                       the shared prefixes fit the KV pool), engine variants compared
#   nr2k                the 2k workload with the radix cache off alone
#   gputest             the gpu-labelled executor and sampling tests (after build)
#   nr2k                the 2k workload with the radix cache off alone
#   peer                HF transformers generate on the 2k workload's prompts (and batch 1)
#   gemm prefill        cuBLAS's bf16 GEMM rate at 8k tokens; Stemma's prefill of an 8k prompt
# Run from the repository root with .devdeps carried:  STEPS="build make gsp2k" bash bench/gpu/run_serving.sh
set -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
STEPS=${STEPS:-"build make gsp2k"}
B=${B:-/root/build-serve}
M=${M:-/root/hf-llama-8b}
CFG=tests/fixtures/configs/llama-3.1-8b.json
S=$B/cli/stemma
for f in .devdeps/*.deb; do dpkg -x "$f" /opt/deps; done
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.used,memory.total --format=csv >> "$OUT/gpu.txt"
if [[ $STEPS == *build* ]]; then
  cmake -S . -B $B -G Ninja -DSTEMMA_CUDA=ON -DSTEMMA_BUILD_TESTS=ON -DCMAKE_PREFIX_PATH=/opt/deps/usr \
    -DCMAKE_CXX_FLAGS="-isystem /opt/deps/usr/include" \
    -DCMAKE_EXE_LINKER_FLAGS="-L/opt/deps/usr/lib/x86_64-linux-gnu -Wl,-rpath,/opt/deps/usr/lib/x86_64-linux-gnu" \
    > "$OUT/build.log" 2>&1 && cmake --build $B -j16 --target stemma >> "$OUT/build.log" 2>&1 ||
    { grep -E "error|Error" -A3 "$OUT/build.log" | head -40; exit 1; }
fi
if [[ $STEPS == *make* && ! -f $M/config.json ]]; then
  /usr/bin/time -f "make %e s" python3 bench/gpu/hf_generate_peer.py make --config $CFG --dir $M 2>&1 | tee "$OUT/make.log"
fi
if [[ $STEPS == *gputest* ]]; then
  cmake --build $B -j16 --target backend_cuda_executor_test kernels_sampling_test >> "$OUT/build.log" 2>&1 &&
  (cd $B && timeout ${TEST_TIMEOUT:-300} ctest -L gpu -R "cuda_executor|sampling" --output-on-failure) 2>&1 | tail -30 | tee "$OUT/tests.log"
fi
if [[ $STEPS == *gputest* ]]; then
  cmake --build $B -j16 --target backend_cuda_executor_test kernels_sampling_test >> "$OUT/build.log" 2>&1 &&
  (cd $B && timeout ${TEST_TIMEOUT:-300} ctest -L gpu -R "cuda_executor|sampling" --output-on-failure) 2>&1 | tail -30 | tee "$OUT/tests.log"
fi
gsp() {  # name system-len groups variants
  timeout ${GSP_TIMEOUT:-400} $S bench-workload --model $M --backend cuda --workload generated_shared_prefix --system-len $2 \
    --groups $3 --per-group 16 --question-len 128 --output-len 256 --variants $4 \
    --max-running ${MAX_RUNNING:-1024} --max-batch-tokens ${MAX_BATCH_TOKENS:-8192} \
    --prefill-chunk ${PREFILL_CHUNK:-2048} --repeats ${REPEATS:-1} > "$OUT/$1.json" 2> "$OUT/$1.err"
  echo "$1 rc=$?"; tail -3 "$OUT/$1.err"
  python3 - "$OUT/$1.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for r in j["results"]:
    for k, v in r.items():
        if isinstance(v, dict):
            print(k, {x: round(v[x], 3) if isinstance(v[x], float) else v[x] for x in
                      ("output_tokens_per_s", "tpot_p50_ms", "tpot_p99_ms", "ttft_p50_s", "wall_s",
                       "hit_rate", "preemptions", "evicted_pages", "leaked_pages", "steps")})
        else:
            print(k, v)
PY
}
[[ $STEPS == *gsp2k* ]] && gsp gsp2k 2048 ${GROUPS_2K:-64} ${VARIANTS_2K:-full,baseline_attention,no_radix}
[[ $STEPS == *nr2k* ]] && gsp nr2k 2048 ${GROUPS_2K:-64} no_radix
[[ $STEPS == *nr2k* ]] && gsp nr2k 2048 ${GROUPS_2K:-64} no_radix
[[ $STEPS == *gsp8k* ]] && gsp gsp8k 8192 ${GROUPS_8K:-16} ${VARIANTS_8K:-full,baseline_attention}
[[ $STEPS == *gsp32k* ]] && gsp gsp32k 32768 ${GROUPS_32K:-4} ${VARIANTS_32K:-full,baseline_attention}
if [[ $STEPS == *peer* ]]; then
  $S bench-workload --model $M --workload generated_shared_prefix --system-len 2048 --groups 64 \
    --per-group 16 --question-len 128 --output-len 256 --dump-prompts /root/gsp2k_prompts.json &&
  PYTHONUNBUFFERED=1 timeout ${PEER_TIMEOUT:-400} python3 bench/gpu/hf_generate_peer.py run --dir $M \
    --prompts /root/gsp2k_prompts.json --batch ${PEER_BATCH:-64} --max-requests ${PEER_REQUESTS:-256} 2>&1 |
    grep -v Warning | tee "$OUT/peer.log"
  # Stemma at batch 1 on the same first prompt shape.
  $S bench --model $M --backend cuda --prompt 2176 --gen 256 --repeats 2 2>&1 | tee "$OUT/stemma_batch1.log"
fi
if [[ $STEPS == *gemm* ]]; then
  python3 bench/gpu/cublas_gemm_rate.py --config $CFG --tokens 8192 2>&1 | tee "$OUT/gemm.json"
fi
if [[ $STEPS == *prefill* ]]; then
  $S bench --model $M --backend cuda --prompt 8192 --gen 2 --repeats 3 2>&1 | tee "$OUT/prefill8k.log"
fi
