#!/usr/bin/env bash
# The main job: installs what is missing, builds every implementation and the harness, and runs
# the conformance run itself — the interop matrix (with the golden image), then every scenario of
# scenarios/ over the three implementations — and ends with the summary a gate reads. Extra
# arguments go to `warmcheck run` (e.g. --filter GLOB, --fixture NAME=COMMAND --only NAME,
# --shard I/N, --junit FILE). Exit 0 only if both parts pass; 1 a conformance failure; 2 a
# harness or input error.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/build-fixtures.sh || exit 2
swift build --product warmcheck || exit 2
swift build --product warmcache-swift-fixture || exit 2
wc=.build/debug/warmcheck
echo "== interop matrix (docs/MATRIX.md)"
"$wc" matrix --no-build | tee .build/run-matrix.log
m=${PIPESTATUS[0]}
echo
echo "== scenarios (docs/SCENARIOS.md)"
"$wc" run --no-build "$@" | tee .build/run-scenarios.log
r=${PIPESTATUS[0]}
echo
echo "== summary"
echo "matrix:    $(grep -E '^matrix: ' .build/run-matrix.log | tail -1 | sed 's/^matrix: //') (exit $m)"
echo "scenarios: $(grep -E '^[0-9]+ passed, [0-9]+ failed' .build/run-scenarios.log | tail -1) (exit $r)"
if [ "$m" -eq 0 ] && [ "$r" -eq 0 ]; then
  echo "conformance: PASS"
  exit 0
fi
echo "conformance: FAIL (failing cases above, each with its rerun command)"
[ "$m" -eq 1 ] || [ "$r" -eq 1 ] && exit 1
exit 2
