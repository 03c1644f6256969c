#!/usr/bin/env bash
# ctest bindings_go: vets and builds bindings/go (cgo) and runs its tests against libstemma.so.
. "$(dirname "$0")/common.sh"
if ! command -v go >/dev/null 2>&1; then
  echo "SKIP: the go toolchain is not installed (scripts/setup.sh installs golang-go)"
  exit 77
fi
export GOCACHE="$work_dir/cache" GOPATH="$work_dir/path" GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
export CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Werror" CGO_LDFLAGS="-L$lib_dir -Wl,-rpath,$lib_dir"
cd "$src_dir/bindings/go"
go version
go vet ./...
go test -c -o "$work_dir/stemma.test" .
run_tests "$work_dir/stemma.test" -test.v -test.count=1 -test.timeout=800s
