#!/usr/bin/env bash
# ctest bindings_rust: builds the bindings/rust crate and runs its unit, integration and doc
# tests against libstemma.so (offline: the crate has no registry dependencies).
. "$(dirname "$0")/common.sh"
cargo_bin=$(command -v cargo || true)
if [ -z "$cargo_bin" ] && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  cargo_bin="${HOME:-/root}/.cargo/bin/cargo"
  export PATH="$(dirname "$cargo_bin"):$PATH"
fi
if [ -z "$cargo_bin" ]; then
  echo "SKIP: cargo is not installed (scripts/setup.sh installs Debian's cargo and rustc)"
  exit 77
fi
export STEMMA_LIB_DIR="$lib_dir" CARGO_TARGET_DIR="$work_dir/target"
cd "$src_dir/bindings/rust"
"$cargo_bin" --version
rustc --version
if [ -n "$asan_preload" ]; then
  # cargo runs each test binary through this runner; build scripts and rustdoc run without it.
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$src_dir/tests/bindings/asan_runner.sh $asan_preload"
fi
"$cargo_bin" test --offline -- --test-threads=2
