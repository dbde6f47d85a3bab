#!/usr/bin/env bash
# Runs every test of the project: Go (vet + test), Rust (cargo test), Swift (swift test, which
# includes the harness's integration tests against the real fixtures), then the interop matrix.
# Ends with one line `tests: N passed, N failed` summed over all runners.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs="$root/.build/test-logs"
mkdir -p "$logs"
passed=0
failed=0
status=0

stage() { # stage NAME COMMAND...: runs a stage, shows its output, keeps a copy for counting
  local name=$1; shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "=== $name FAILED (exit $rc)"
    status=1
  fi
  return 0
}

scripts/build-fixtures.sh || { echo "building the fixtures failed"; exit 2; }

stage go-vet bash -c 'cd go-fixture && go vet ./...'
stage go-test bash -c 'set -o pipefail; cd go-fixture && go test -count=1 -v ./... | grep -E "^(=== RUN|--- (PASS|FAIL|SKIP)|PASS|FAIL|ok|panic)" '
stage rust-test bash -c 'cd rust-fixture && ../scripts/cargo-offline.sh test --release'
# The harness and the Swift fixture first: the harness's own tests drive the real fixtures.
swift build --product warmcheck && swift build --product warmcache-swift-fixture || { echo "building warmcheck failed"; exit 2; }
stage swift-test swift test
stage matrix .build/debug/warmcheck matrix --no-build
stage scenarios .build/debug/warmcheck run --no-build --junit .build/test-logs/junit.xml --json .build/test-logs/run.json
stage refusals .build/debug/warmcheck refusals --no-build --json .build/test-logs/refusals.json
stage selftest .build/debug/warmcheck selftest --no-build --json .build/test-logs/selftest.json --artifacts .build/test-logs/kills
# A race found once must reproduce every time: a Go reader that skips its second state-word load
# is caught by the depth-first race, and its replay file must fail the same way 100 times of 100.
stage replay bash -c '
  d=.build/test-logs/replay-demo; rm -rf "$d"
  if .build/debug/warmcheck run --no-build scenarios/race-read-vs-slot-reuse.yaml \
       --filter "race-read-vs-slot-reuse[writer=rust,reader=go]" --fault go=skip_second_seq_check --artifacts "$d"; then
    echo "the race did not catch skip_second_seq_check"; exit 1
  fi
  f=$(ls "$d"/*.replay.json | grep -v "\.min\.replay\.json$" | head -1)
  [ -n "$f" ] || { echo "no replay file was written"; exit 1; }
  .build/debug/warmcheck replay "$f" --times 100'

# Sum what each runner says it ran.
g_pass=$(grep -cE '^\s*--- PASS' "$logs/go-test.log" || true)
g_fail=$(grep -cE '^\s*--- FAIL' "$logs/go-test.log" || true)
r_pass=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$logs/rust-test.log" | awk '{s+=$4} END {print s+0}')
r_fail=$(grep -oE '[0-9]+ failed;' "$logs/rust-test.log" | awk '{s+=$1} END {print s+0}')
# XCTest prints "Executed N tests, with M failures"; Swift Testing "Test run with N tests ... passed/failed".
# (with skipped tests it reads "Executed N tests, with K tests skipped and M failures"; skipped
# ones are benchmarks behind WARMCHECK_BENCH and count as neither).
xct='Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?'
s_total=$(grep -oE "$xct" "$logs/swift-test.log" | awk '{n = $2; if ($7 == "skipped") n -= $5; print n}' | sort -n | tail -1)
s_fail=$(grep -oE "$xct" "$logs/swift-test.log" | awk '{print $(NF-1)+0}' | sort -n | tail -1)
st_total=$(grep -oE 'Test run with [0-9]+ tests?' "$logs/swift-test.log" | tail -1 | awk '{print $4+0}')
c_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/scenarios.log" | tail -1)
c_pass=$(echo "$c_line" | awk '{print $1+0}'); c_fail=$(echo "$c_line" | awk '{print $3+0}')
k_line=$(grep -oE '^mutation score: [0-9]+/[0-9]+' "$logs/selftest.log" | tail -1)
k_pass=$(echo "$k_line" | awk -F'[ /]' '{print $3+0}'); k_total=$(echo "$k_line" | awk -F'[ /]' '{print $4+0}')
# Crafted bad segments: one test per case (every implementation and inspect must answer it right).
rf_line=$(grep -oE '^refusals: [0-9]+/[0-9]+' "$logs/refusals.log" | tail -1)
rf_pass=$(echo "$rf_line" | awk -F'[ /]' '{print $2+0}'); rf_total=$(echo "$rf_line" | awk -F'[ /]' '{print $3+0}')
rf_pass=${rf_pass:-0}; rf_total=${rf_total:-0}; [ -n "$rf_line" ] || rf_total=1
echo "refusals: $rf_pass passed, $(( rf_total - rf_pass )) failed"
# The replay stage counts as one test: reproduced 100/100 or not.
if grep -qE '^reproduced 100/100$' "$logs/replay.log"; then rp_pass=1; rp_fail=0; else rp_pass=0; rp_fail=1; fi
m_pass=$(grep -oE '^matrix: [0-9]+/[0-9]+' "$logs/matrix.log" | awk -F'[ /]' '{print $2+0}')
m_total=$(grep -oE '^matrix: [0-9]+/[0-9]+' "$logs/matrix.log" | awk -F'[ /]' '{print $3+0}')
s_total=${s_total:-0}; s_fail=${s_fail:-0}; st_total=${st_total:-0}; m_pass=${m_pass:-0}; m_total=${m_total:-9}
c_pass=${c_pass:-0}; c_fail=${c_fail:-0}; k_pass=${k_pass:-0}; k_total=${k_total:-0}
passed=$(( g_pass + r_pass + (s_total - s_fail) + st_total + m_pass + c_pass + k_pass + rp_pass + rf_pass ))
failed=$(( g_fail + r_fail + s_fail + (m_total - m_pass) + c_fail + (k_total - k_pass) + rp_fail + (rf_total - rf_pass) ))
# A stage that failed without any runner counting a failure (a build error, a crash) still counts.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo
echo "go: $g_pass passed, $g_fail failed | rust: $r_pass passed, $r_fail failed | swift: $((s_total - s_fail + st_total)) passed, $s_fail failed"
echo "matrix: $m_pass/$m_total cells | scenarios: $c_pass passed, $c_fail failed | mutation score: $k_pass/$k_total | replay: $(grep -oE '^reproduced [0-9]+/[0-9]+' "$logs/replay.log" || echo none)"
echo "tests: $passed passed, $failed failed"
exit $status
