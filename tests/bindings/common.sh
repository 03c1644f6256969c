# Sourced by run_<lang>.sh: arguments, environment for the tests, and the sanitizer preload.
#   $1 source dir, $2 folder of libstemma.so, $3 work dir (in the build tree), $4 what to
#   preload in a sanitizer build (the ASan runtime first, ':'-separated; "" when not sanitized).
set -euo pipefail
src_dir=$1
lib_dir=$2
work_dir=$3
asan_preload=${4:-}
mkdir -p "$work_dir"
if [ ! -e "$lib_dir/libstemma.so" ]; then
  echo "FAIL: $lib_dir/libstemma.so does not exist (build the stemma_shared target)" >&2
  exit 1
fi
export STEMMA_SOURCE_DIR="$src_dir"
export STEMMA_TEST_MODEL="$src_dir/models/stemma-faq.gguf"
export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Runs a test command; under ASan with the runtime preloaded (only the tests, never the
# compilers, whose own leaks are not ours). EXTRA_PRELOAD adds libraries to the preload.
run_tests() {
  if [ -n "$asan_preload" ]; then
    local lsan="${LSAN_OPTIONS:-}"
    if [ -n "${STEMMA_LSAN_SUPPRESSIONS:-}" ] && [ -e "$STEMMA_LSAN_SUPPRESSIONS" ]; then
      lsan="suppressions=$STEMMA_LSAN_SUPPRESSIONS${lsan:+:$lsan}"
    fi
    LD_PRELOAD="$asan_preload${EXTRA_PRELOAD:+:$EXTRA_PRELOAD}" LSAN_OPTIONS="$lsan" \
      ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" "$@"
  else
    "$@"
  fi
}
