#!/usr/bin/env bash
# Runs every test of the project: Go (vet + test), Rust (cargo test), Swift (swift test, which
# includes the harness's integration tests against the real fixtures), then warmcheck's own
# checks (matrix, scenarios, self-test, replay). Ends with one line `tests: N passed, N failed`.
#
# Each stage names how its tests are counted (scripts/count-tests.sh): from what its runner
# writes for machines (go test -json, XCTest's per-test lines, Swift Testing's xUnit file, cargo's
# per-test lines, warmcheck's --json), never from a summary for people. A stage that exits
# non-zero without a counted failure (a build error, a crash) counts one failure, and so does a
# stage that counted no test at all. Every stage's full output stays in .build/test-logs/NAME.log.
# Adding a stage is one line: `stage NAME COUNTER COMMAND…`, e.g. for the mutation score
#   stage mutate line:mutate .build/debug/warmcheck mutate …     (prints "mutate: K passed, M failed")
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs="$root/.build/test-logs"
# The Swift toolchain leaves an empty TemporaryDirectory.* in $TMPDIR for each swiftc it spawns
# (Sources/WarmcheckCore/Support/PrivateTemporaryDirectory.swift): the gate gets a TMPDIR of its
# own, removed when it ends.
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/warmcache-test.XXXXXX")"
# Scenario fixtures run as uid 424242 (DRIVER.md "Fixture credentials"): they must be able to
# pass through this directory to the 1777 scratch directories the tests make inside it.
chmod 711 "$TMPDIR"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
rm -rf "$logs"
mkdir -p "$logs"
passed=0
failed=0
status=0
summary=()

stage() { # stage NAME COUNTER COMMAND...
  local name=$1 counter=$2; shift 2
  local log="$logs/$name.log" began=$SECONDS
  echo "=== $name: $*"
  if [ "$counter" = go-json ]; then
    # Shown as the text the events carry, less the `=== RUN` lines (which read like this script's
    # stage lines); the log keeps every event.
    "$@" 2>&1 | tee "$log" | sed -un 's/^{.*"Output":"\(.*\)"}$/\1/p' | sed -u 's/\\n$//; s/\\t/\t/g; s/\\"/"/g; /^=== \(RUN\|PAUSE\|CONT\)/d'
  else
    "$@" 2>&1 | tee "$log"
  fi
  local rc=${PIPESTATUS[0]}
  local how=$counter
  [ "$counter" = exit ] && how="exit:$rc"
  local p f s
  read -r p f s < <(scripts/count-tests.sh "$how" "$log")
  p=${p:-0}; f=${f:-0}; s=${s:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "=== $name exited with status $rc without a counted failure (build error or crash): counted as 1 failure"
    f=1
  fi
  if [ $((p + f + s)) -eq 0 ]; then
    echo "=== $name counted no test at all: counted as 1 failure"
    f=1
  fi
  [ "$rc" -ne 0 ] && echo "=== $name FAILED (exit $rc)"
  [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] && status=1
  passed=$((passed + p))
  failed=$((failed + f))
  # The stage's wall time, for CI's 20-minute budget (docs/CONFORMANCE.md and BENCHMARKS.md
  # say which gates are sampled to fit it).
  summary+=("$name: $p passed, $f failed$([ "$s" -gt 0 ] && echo ", $s skipped") [$((SECONDS - began)) s]")
  return 0
}

stage build-fixtures exit scripts/build-fixtures.sh
stage go-vet exit bash -c 'cd go-fixture && go vet ./...'
stage go-test go-json bash -c 'cd go-fixture && go test -count=1 -json ./...'
stage rust-test cargo bash -c 'cd rust-fixture && ../scripts/cargo-offline.sh test --release'
# The harness and the Swift fixture first: the harness's own tests drive the real fixtures.
stage swift-build exit bash -c 'swift build --product warmcheck && swift build --product warmcache-swift-fixture'
# What a service sees of the three libraries: the Go module path from outside the module, and no
# harness hook in the public API of Go, Rust (without the `harness` feature) or Swift (without
# @_spi(Harness)); 50 checks, ~15 s warm (the Rust probes' first build ~40 s more).
stage surface line:surface scripts/check-public-surface.sh
# XCTest counted from its per-test lines, Swift Testing from the xUnit file SwiftPM writes for it
# beside the name given (swift-swift-testing.xml).
stage swift-test "swift:$logs/swift-swift-testing.xml" swift test --xunit-output "$logs/swift.xml"
stage matrix "warmcheck:$logs/matrix.json" .build/debug/warmcheck matrix --no-build --json "$logs/matrix.json"
# Every scenario case, as two concurrent shards merged into one report (one `run` leaves a core
# mostly idle while its fixtures start and answer; scripts/run-scenarios-sharded.sh).
stage scenarios "warmcheck:$logs/run.json" scripts/run-scenarios-sharded.sh "${WARMCHECK_SCENARIO_SHARDS:-2}" "$logs"
# stats/exporter/entries on live Go and Rust segments, scrapes parsed by prometheus_client (~7 s).
stage observe line:observe python3 scripts/observe/check-observe.py
stage refusals line:refusals .build/debug/warmcheck refusals --no-build --json "$logs/refusals.json"
# The upgrade gate (docs/UPGRADING.md): release 1.0's fixtures, built from history into
# .build/compat/<commit>/ on the first run (a clean clone: ~3 min, then cached), against today's.
stage compat "junit:$logs/compat.xml" .build/debug/warmcheck compat --no-build --baseline 1.0 --junit "$logs/compat.xml"
# A sample of the durable store's power cuts, 40 of them during compaction (docs/PERSISTENCE.md;
# go, rust and swift write, restore and compact; 20 s in all at load 13): the full run is
# `warmcheck powercut --cuts 10000` (docs/BENCHMARKS.md "Durable store").
stage powercut exit .build/debug/warmcheck powercut --no-build --cuts 1000 --compaction-cuts 40 --seed 7
# Every fault of every fixture, each tried first against the case that killed it in the last
# full run (mutation/selftest-hints.txt; only the order changes, docs/CONFORMANCE.md "The self-test").
stage selftest "warmcheck:$logs/selftest.json" .build/debug/warmcheck selftest --no-build --json "$logs/selftest.json" --artifacts "$logs/kills" \
  --hints mutation/selftest-hints.txt --write-hints "$logs/selftest-hints.txt"
# Source-level mutation testing on a fixed seeded sample of 6 Go mutants, drawn after the mutants
# listed in mutation/equivalent.txt are left out (--skip-equivalent: each would cost a whole pass
# and prove nothing; the documented runs check that they still survive). Each mutant faces the
# scenario cases and the other gates (refusals, crashsweep, powercut) in the learned order
# (mutation/kill-history.json); a case that fails is run once unmutated and only then counts
# (--lazy-baseline: no full unmutated pass first). Go only: a clean clone must build the Rust and
# Swift copies from scratch (118 s and 145 s measured at load 20) before their first mutant, which
# does not fit this stage; `--per-language` runs all three (docs/CONFORMANCE.md). Fails below
# mutation/ci-min-score.txt. Killed mutants count as passed; survivors count as failed only when
# the score is below the threshold.
stage mutate line:mutate .build/debug/warmcheck mutate --no-build --lang go --sample 6 --seed 7 --skip-equivalent \
  --lazy-baseline --min-score "$(grep -v '^#' mutation/ci-min-score.txt | tr -d ' \n')" --json "$logs/mutate.json" \
  --report "$logs/mutate-survivors.txt"
# A race found once must reproduce every time: a Go reader that skips its second state-word load
# is caught by the depth-first race, and its replay file must fail the same way 100 times of 100.
stage replay exit bash -c '
  d=.build/test-logs/replay-demo; rm -rf "$d"
  if .build/debug/warmcheck run --no-build scenarios/race-read-vs-slot-reuse.yaml \
       --filter "race-read-vs-slot-reuse[writer=rust,reader=go]" --fault go=skip_second_seq_check --artifacts "$d"; then
    echo "the race did not catch skip_second_seq_check"; exit 1
  fi
  f=$(ls "$d"/*.replay.json | grep -v "\.min\.replay\.json$" | head -1)
  [ -n "$f" ] || { echo "no replay file was written"; exit 1; }
  .build/debug/warmcheck replay "$f" --times 100'
# Crash anywhere (docs/CRASHSWEEP.md): a seeded sample of the crash points, each killed and
# recovered through another implementation; one test (its exit status). The full sweep is
# documented there.
stage crashsweep exit .build/debug/warmcheck crashsweep --no-build --sample 100 --seed 7 --json "$logs/crashsweep.json"
# The in-process tier (docs/ABI.md): a seeded slice of the ABI vectors and of the image fuzzer
# through every library via libffi (the long runs: docs/BENCHMARKS.md). Any disagreement between
# the libraries, a crash or a hang fails. Each stage counts as one test (its exit status): the
# tens of thousands of inputs it checks are not tests of their own.
stage abi-vectors exit .build/debug/warmcheck vectors --random 20000 --seed 7 --rate-rounds 2 --rate-calls 20000
# Images, then journals (fuzz --journals: the Go and Rust store decoders, testdata/journal-cases.json first; ~3 s).
stage abi-fuzz exit sh -c '.build/debug/warmcheck fuzz --count 50000 --seed 7 --out .build/test-logs/fuzz --show 3 && .build/debug/warmcheck fuzz --journals --count 20000 --seed 7 --out .build/test-logs/fuzz-journals --show 3'
# The startup bench runs end to end on a tiny working set and emits a valid report (not timing).
stage bench-startup exit scripts/bench-startup-smoke.sh .build/test-logs

echo
printf '%s\n' "${summary[@]}"
echo "tests: $passed passed, $failed failed"
exit $status
