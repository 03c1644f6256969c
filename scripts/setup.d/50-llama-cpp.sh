#!/usr/bin/env bash
# llama.cpp, prebuilt, for the CPU speed comparison (bench/cpu/compare_llama_cpp.sh): the npm
# packages node-llama-cpp (JS bindings) and @node-llama-cpp/linux-x64 (llama.cpp's CPU
# libraries, v0.5.0 build). Installed under .assets/llama-cpp. Benchmarks only: no test needs
# it, so a machine without npm (or offline) just skips it.
set -uo pipefail
cd "$(dirname "$0")/../.."

version=3.22.1
dest=.assets/llama-cpp
if [ -f "$dest/node_modules/@node-llama-cpp/linux-x64/package.json" ] &&
   grep -q "\"version\": \"$version\"" "$dest/node_modules/@node-llama-cpp/linux-x64/package.json" &&
   [ -f "$dest/node_modules/node-llama-cpp/package.json" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1 || [ "$(uname -m)" != "x86_64" ]; then
  echo "setup: 50-llama-cpp: no npm or not x86_64; skipping (only bench/cpu/compare_llama_cpp.sh needs it)"
  exit 0
fi
mkdir -p "$dest"
# --omit=optional keeps out the CUDA/Vulkan/other-OS binaries; --ignore-scripts stops
# node-llama-cpp's postinstall from trying to download or build llama.cpp.
if ! npm install --prefix "$dest" --no-audit --no-fund --omit=optional --ignore-scripts \
    "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >"$dest/install.log" 2>&1; then
  echo "setup: 50-llama-cpp: npm install failed (see $dest/install.log); the llama.cpp comparison will not run"
fi
exit 0
