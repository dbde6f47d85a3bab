#!/usr/bin/env bash
# The main job: installs what is missing, builds every implementation and the harness, and runs
# warmcheck on its default checks (the interop matrix with the golden image). Extra arguments go
# to `warmcheck matrix`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/build-fixtures.sh
swift build --product warmcheck
swift build --product warmcache-swift-fixture
exec .build/debug/warmcheck matrix --no-build "$@"
