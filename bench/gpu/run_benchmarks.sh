#!/bin/bash
# Single-stream decode on the GPU: the Llama-3.1-8B shape (random weights) in BF16, Q8_0 and Q4_K
# at prompts of 1k and 32k, `stemma bench --backend cuda` (medians of repeats). Argument: the
# build folder. Prints one JSON object per run. (docs/gpu.md)
B=${1:-/root/build-gpu}
CFG=tests/fixtures/configs/llama-3.1-8b.json
for type in ${TYPES:-bf16 q8_0 q4_k}; do
  for prompt in ${PROMPTS:-1024 32768}; do
    timeout 300 $B/cli/stemma bench --dummy $CFG --type $type --prompt $prompt --gen ${GEN:-64} \
      --repeats ${REPEATS:-2} --backend cuda
  done
done
