#!/usr/bin/env bash
# The FAQ bot on the shipped model, from a fresh clone: installs what the build needs (only if
# something is missing: scripts/setup.sh --build-only), builds just the faq-bot program in
# build-demo/ (CPU only, no tests or benchmarks), then answers two questions from models/stemma-faq.gguf in one
# session, streaming the answers, and prints the engine's statistics (radix cache hits).
#
#   scripts/demo.sh                         # the two default questions
#   scripts/demo.sh "Where is my order LM-204817?"   # your own question(s)
set -euo pipefail
cd "$(dirname "$0")/.."

need_setup=0
for tool in cmake ninja g++ pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || need_setup=1
done
for pkg in libre2-dev nlohmann-json3-dev libsqlite3-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_setup=1
done
if [ "$need_setup" = 1 ] || [ "${STEMMA_DEMO_SETUP:-0}" = 1 ]; then
  echo "demo: installing build dependencies (scripts/setup.sh --build-only)"
  bash scripts/setup.sh --build-only
fi

jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f build-demo/build.ninja ]; then
  # A unity build (16 sources per compile) parses the big headers (nlohmann/json) once per batch
  # instead of once per file: on 2 cores the build takes ~75 s instead of ~110 s.
  cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTEMMA_CUDA=OFF \
    -DSTEMMA_BUILD_TESTS=OFF -DSTEMMA_BUILD_BENCH=OFF \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
fi
echo "demo: building faq-bot (build-demo/, $jobs jobs)"
if ! cmake --build build-demo --target faq-bot -j "$jobs" >build-demo/build.log 2>&1; then
  tail -n 40 build-demo/build.log
  echo "demo: build failed (full log: build-demo/build.log)" >&2
  exit 1
fi

questions=("$@")
if [ ${#questions[@]} -eq 0 ]; then
  questions=("How do I reset my hub?" "What is the range of the Lumora Hub?")
fi
args=()
for q in "${questions[@]}"; do args+=(--ask "$q"); done
exec build-demo/demos/faq-bot/faq-bot --model models/stemma-faq.gguf \
  --faq demos/faq-bot/data/faq.json "${args[@]}"
