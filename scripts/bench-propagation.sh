#!/usr/bin/env bash
# bench-propagation.sh [--samples N] [--warmup N] [--gap-us N] [--json FILE]
#
# Cross-language propagation latency (issue 12 §1, docs/BENCHMARKS.md): a Rust process puts,
# a Go process sees it, measured one way with CLOCK_REALTIME stamps. Three rows, in one run:
#   floor  two processes bouncing one atomic word through a plain shared mapping (Rust stores,
#          Go spins): what any shared-memory handoff costs on this machine at this load
#   spin   Rust Cache::put → Go Cache.Get in a loop until it returns the new value
#   park   Rust Cache::put → Go parked in Cache.WaitForChange (futex, PROTOCOL.md §11), then Get
# Prints p50/p90/p99/max per row and the ratios of the p50s and p99s to the floor's, with the load
# average; --json FILE writes the rows. Both sides are go-fixture/cmd/warmcache-propagation and
# rust-fixture/src/bin/warmcache-propagation.rs; segment files go to /dev/shm and are removed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
samples=5000
warmup=200
gap_us=200
json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --samples) samples=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --gap-us) gap_us=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "bench-propagation.sh: unknown argument $1 (--samples N, --warmup N, --gap-us N, --json FILE)" >&2; exit 2 ;;
  esac
done
for n in "$samples" "$warmup" "$gap_us"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "bench-propagation.sh: $n is not a non-negative integer" >&2; exit 2; }
done
[ "$samples" -gt 0 ] || { echo "bench-propagation.sh: --samples must be positive" >&2; exit 2; }

[ -n "${HOME:-}" ] || export GOCACHE="$root/.build/go-cache" GOPATH="$root/.build/gopath"
mkdir -p "$root/.build/fixtures"
(cd "$root/go-fixture" && go build -o "$root/.build/fixtures/warmcache-go-propagation" ./cmd/warmcache-propagation)
(cd "$root/rust-fixture" && "$root/scripts/cargo-offline.sh" build --release --quiet --bin warmcache-propagation)
go_bin="$root/.build/fixtures/warmcache-go-propagation"
rust_bin="$root/rust-fixture/target/release/warmcache-propagation"

producer=""
files=()
cleanup() {
  [ -n "$producer" ] && kill "$producer" 2>/dev/null && wait "$producer" 2>/dev/null
  rm -f "${files[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for mode in floor spin park; do
  path="/dev/shm/warmcache-propagation-$$-$mode"
  files+=("$path")
  "$rust_bin" "$mode" "$path" "$samples" "$warmup" "$gap_us" &
  producer=$!
  row=$("$go_bin" "$mode" "$path" "$samples" "$warmup")
  wait "$producer" || { echo "bench-propagation.sh: the Rust producer of $mode failed" >&2; exit 1; }
  producer=""
  rm -f "$path"
  rows+=("$row")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

rowfile=$(mktemp "${TMPDIR:-/tmp}/warmcache-propagation.XXXXXX")
files+=("$rowfile")
printf '%s\n' "${rows[@]}" >"$rowfile"
python3 - "$rowfile" "$json" "$load_before" "$load_after" "$(nproc)" "$gap_us" "$warmup" <<'PY'
import json, sys
rowfile, out, load_before, load_after, cores, gap_us, warmup = sys.argv[1:]
rows = [json.loads(l) for l in open(rowfile)]
floor = next(r for r in rows if r["mode"] == "floor")
us = lambda ns: "%.1f µs" % (ns / 1000)
print("%-6s %7s %10s %10s %10s %11s   %9s  %9s" % ("row", "samples", "p50", "p90", "p99", "max", "p50/floor", "p99/floor"))
for r in rows:
    print("%-6s %7d %10s %10s %10s %11s   %8.3g×  %8.3g×" % (r["mode"], r["samples"], us(r["p50_ns"]), us(r["p90_ns"]),
          us(r["p99_ns"]), us(r["max_ns"]), r["p50_ns"] / floor["p50_ns"], r["p99_ns"] / floor["p99_ns"]))
print("load average: %s before, %s after (%s cores); gap %s µs, warmup %s" % (load_before, load_after, cores, gap_us, warmup))
if out:
    json.dump({"bench": "propagation", "writer": "rust", "reader": "go", "load_before": load_before,
               "load_after": load_after, "cores": int(cores), "gap_us": int(gap_us), "warmup": int(warmup),
               "rows": rows}, open(out, "w"), indent=2)
    print("wrote " + out)
PY
