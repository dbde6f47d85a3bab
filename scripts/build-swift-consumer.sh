#!/usr/bin/env bash
# Builds the Swift consumer of `warmcheck bench startup --language swift` and its exec floor
# (docs/BENCHMARKS.md "Startup"): release, with the Swift runtime linked statically into both, as
# a service that cares about its start would ship it (loading libswiftCore and its companions
# took about as long as the rest of the start). Not part of scripts/build-fixtures.sh: a release
# build takes minutes, and CI's startup smoke runs the Go and Rust rows only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for p in warmcache-swift-consumer warmcache-swift-empty; do
  swift build -c release --static-swift-stdlib --product "$p"
done
