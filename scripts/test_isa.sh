#!/usr/bin/env bash
# The CPU kernels on the instruction sets CI's own CPU does not exercise (issue 15 item 1): a
# chosen set of test binaries of an existing build runs
#   1. under qemu-x86_64 -cpu Haswell-v4: an AVX2 + FMA + F16C CPU without AVX-512, where the
#      AVX-512 code must never run (it was SIGILL at engine open before), and
#   2. natively with the scalar kernels (STEMMA_CPU_ISA=scalar).
# Each run tells the suites which ISA they must see (STEMMA_EXPECT_ISA). Needs qemu-user
# (scripts/setup.sh installs it). BUILD_DIR defaults to build.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
wrapped=(python3 scripts/run_tests_wrapped.py --build "$build")

# What runs models: the kernels and their dispatch, the forward pass on every weight type, the
# engine and its scheduler, the C ABI's engine (the SIGILL was at stemma_engine_open).
emulated='^(backend_cpu_(kernels|forward|gguf_forward|hf_fixture)_test|engine_test|capi_engine_test|capi_generate_test)$'
scalar='^(backend_cpu_.*_test|engine_.*|sched_.*|capi_(engine|generate|chat|program)_test|sdk_.*)$'

if command -v qemu-x86_64 >/dev/null 2>&1; then
  echo "test_isa: AVX2-only CPU (qemu-x86_64 -cpu Haswell-v4)"
  # STEMMA_CPU_ISA=avx512 asks for more than the CPU has: it must be lowered, never raised.
  "${wrapped[@]}" --regex "$emulated" --wrapper "qemu-x86_64 -cpu Haswell-v4" \
    --env STEMMA_EXPECT_ISA=avx2 --env STEMMA_CPU_ISA=avx512 --timeout-scale 10
else
  echo "test_isa: qemu-x86_64 not installed (apt-get install qemu-user)" >&2
  exit 1
fi
echo "test_isa: scalar kernels"
"${wrapped[@]}" --regex "$scalar" --env STEMMA_EXPECT_ISA=scalar --env STEMMA_CPU_ISA=scalar
