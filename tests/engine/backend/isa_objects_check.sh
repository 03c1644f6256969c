#!/usr/bin/env bash
# The kernel objects compiled for AVX2 / AVX-512 may only be entered through their fill_table
# (called after the CPU reported the ISA): no static initializer (it would run at load on any
# CPU) and no other global or weak symbol (an inline function emitted there could be merged by
# the linker into code that runs anywhere). Issue 15 item 1: SIGILL at engine open without
# AVX-512. Usage: isa_objects_check.sh SANITIZED(0|1) OBJECT...
set -euo pipefail
sanitized="$1"
shift
# CMake passes $<TARGET_OBJECTS:...> as one ;-separated argument.
IFS=';' read -r -a objects <<<"$*"
checked=0
for obj in "${objects[@]}"; do
  case "$obj" in *kernels_avx2.cpp.o | *kernels_avx512.cpp.o) ;; *) continue ;; esac
  checked=$((checked + 1))
  if [ "$sanitized" != 1 ]; then
    # (ASan adds a module constructor that registers globals; it holds no kernel code.)
    if readelf -SW "$obj" | grep -E '\.(init_array|ctors|preinit_array)' >/dev/null; then
      echo "FAIL: $obj has a static initializer section" >&2
      exit 1
    fi
  fi
  # Global or weak definitions other than fill_table. DW.ref.__gxx_personality_v0 is data (the
  # exception personality pointer that unwinding code references; the sanitizer build emits it
  # here): no instruction of the object's ISA can reach other code through it.
  bad=$(nm --defined-only "$obj" | awk '$2 ~ /^[A-TV-Z]$|^[uvw]$/ {print $3}' |
        grep -v '^_ZN6stemma3cpu[0-9]*avx[0-9]*10fill_tableE' | grep -v '^__asan\|^__odr_asan' |
        grep -v '^DW\.ref\.__gxx_personality_v0$' || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $obj defines global or weak symbols besides fill_table:" >&2
    echo "$bad" >&2
    exit 1
  fi
  echo "ok: $obj"
done
if [ "$checked" != 2 ]; then
  echo "FAIL: expected the two ISA kernel objects, found $checked" >&2
  exit 1
fi
