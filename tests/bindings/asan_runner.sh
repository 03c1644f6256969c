#!/usr/bin/env bash
# cargo's target runner in sanitizer builds: $1 what to preload (the ASan runtime first,
# ':'-separated), then the test binary and its arguments.
set -euo pipefail
asan_preload=$1
shift
lsan="${LSAN_OPTIONS:-}"
if [ -n "${STEMMA_LSAN_SUPPRESSIONS:-}" ] && [ -e "$STEMMA_LSAN_SUPPRESSIONS" ]; then
  lsan="suppressions=$STEMMA_LSAN_SUPPRESSIONS${lsan:+:$lsan}"
fi
LD_PRELOAD="$asan_preload" LSAN_OPTIONS="$lsan" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" exec "$@"
