#!/usr/bin/env bash
# Builds the Go and Rust reference fixtures (incremental: both tools skip work that is up to date).
# Outputs: .build/fixtures/warmcache-go-{fixture,bench,consumer,remote-consumer,empty}, rust-fixture/target/release/
# warmcache-{fixture,bench,consumer,empty},
# and the C ABI libraries of docs/ABI.md (scripts/build-abi.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
mkdir -p "$root/.build/fixtures"
# Go needs a build cache; without HOME (some CI shells) it has none, so keep one in .build.
[ -n "${HOME:-}" ] || export GOCACHE="$root/.build/go-cache" GOPATH="$root/.build/gopath"
(cd "$root/go-fixture" && go build -o "$root/.build/fixtures/warmcache-go-fixture" ./cmd/warmcache-fixture)
(cd "$root/go-fixture" && go build -o "$root/.build/fixtures/warmcache-go-bench" ./cmd/warmcache-bench)
# The startup bench's Go consumer and exec floor (warmcheck bench startup, docs/BENCHMARKS.md).
(cd "$root/go-fixture" && go build -o "$root/.build/fixtures/warmcache-go-consumer" ./cmd/warmcache-consumer)
(cd "$root/go-fixture" && go build -o "$root/.build/fixtures/warmcache-go-remote-consumer" ./cmd/warmcache-remote-consumer)
(cd "$root/go-fixture" && go build -o "$root/.build/fixtures/warmcache-go-empty" ./cmd/warmcache-empty)
# Rust: everything a service could build (consumer, bench, …) without the library's `harness`
# feature, then the fixture, which needs it (rust-fixture/Cargo.toml).
(cd "$root/rust-fixture" && "$root/scripts/cargo-offline.sh" build --release --quiet)
(cd "$root/rust-fixture" && "$root/scripts/cargo-offline.sh" build --release --quiet --features harness --bin warmcache-fixture)
"$root/scripts/build-abi.sh"
