#!/usr/bin/env bash
# Installs what building and testing Stemma needs on Debian 12: compilers and libraries from
# Debian's packages, then each scripts/setup.d/*.sh (reference assets from the npm registry, ...).
# Safe to run again: it installs only what is missing.
#   scripts/setup.sh               everything the build and every test need
#   scripts/setup.sh --build-only  only what building the library and the demo needs
#                                  (scripts/demo.sh uses this: no test assets, no toolchains
#                                  of the bindings)
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0
[ "${1:-}" = "--build-only" ] && build_only=1

packages=(build-essential cmake ninja-build pkg-config ca-certificates
          libre2-dev nlohmann-json3-dev libsqlite3-dev)
if [ "$build_only" = 0 ]; then
  packages+=(git doctest-dev python3 python3-jsonschema python3-jinja2)
  # Reliability checks (issue 15): libFuzzer targets (scripts/fuzz.sh), the AVX2-only emulated
  # CPU (scripts/test_isa.sh).
  packages+=(clang-14 libclang-rt-14-dev qemu-user)
  # Language bindings (tests/bindings): Go via cgo, C# via mono. Rust: a cargo already installed
  # (rustup's ~/.cargo/bin) is used; else Debian's cargo and rustc (1.63, the crate's minimum).
  packages+=(golang-go mono-mcs mono-runtime)
  if ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
    packages+=(cargo rustc)
  fi
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "$build_only" = 1 ] && exit 0
for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $step"
  bash "$step"
done
