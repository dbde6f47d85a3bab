#!/usr/bin/env bash
# Builds the three C ABI libraries of docs/ABI.md (incremental):
#   rust-fixture/abi/target/release/libwarmcache_abi.so   (cargo cdylib)
#   .build/abi/libwarmcache_go_abi.so                      (go build -buildmode=c-shared; needs gcc)
#   .build/abi/libWarmcacheABI.so                          (SwiftPM dynamic library product)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$root/.build/abi"
[ -n "${HOME:-}" ] || export GOCACHE="$root/.build/go-cache" GOPATH="$root/.build/gopath"
(cd "$root/rust-fixture/abi" && "$root/scripts/cargo-offline.sh" build --release --quiet)
(cd "$root/go-fixture" && CGO_ENABLED=1 go build -buildmode=c-shared -o "$root/.build/abi/libwarmcache_go_abi.so" ./cmd/warmcache-abi)
(cd "$root" && swift build --product WarmcacheABI >/dev/null)
cp "$root/.build/debug/libWarmcacheABI.so" "$root/.build/abi/libWarmcacheABI.so"
