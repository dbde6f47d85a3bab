#!/usr/bin/env bash
# Runs every scenario case as N concurrent `warmcheck run --shard I/N` processes and merges their
# reports into one (`warmcheck merge`), so that the scenarios stage of scripts/test.sh uses both
# cores: one `run` executes its cases one after another and spends most of a case waiting on its
# fixtures (spawns, pauses, the driver's round trips), so a single run keeps a 2-core machine
# about half busy. Measured in docs/BENCHMARKS.md "CI's own time".
#
#   scripts/run-scenarios-sharded.sh N OUTDIR [warmcheck run options…]
#
# Writes OUTDIR/run.json and OUTDIR/junit.xml (the merged reports), OUTDIR/run-shard-I.{json,log}.
# Exits as the unsplit run would have (merge's status); 2 when the shards do not add up (a shard
# that crashed or wrote no report), which merge names.
set -uo pipefail
n=$1 out=$2; shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wc="$root/.build/debug/warmcheck"
pids=()
# A stage that is interrupted must not leave shards (and their fixtures) running.
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait' INT TERM
reports=()
for i in $(seq 1 "$n"); do
  rm -f "$out/run-shard-$i.json"
  "$wc" run --no-build --shard "$i/$n" --json "$out/run-shard-$i.json" "$@" > "$out/run-shard-$i.log" 2>&1 &
  pids+=($!)
  reports+=("$out/run-shard-$i.json")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  echo "--- shard $((i + 1))/$n exited with status $? (output: $out/run-shard-$((i + 1)).log); its failures and last lines:"
  grep -E '^(FAIL|ERROR)' "$out/run-shard-$((i + 1)).log" | head -50
  tail -n 3 "$out/run-shard-$((i + 1)).log"
done
# merge refuses a set of shards that does not add up to the whole run (a missing one included).
"$wc" merge "${reports[@]}" --json "$out/run.json" --junit "$out/junit.xml"
