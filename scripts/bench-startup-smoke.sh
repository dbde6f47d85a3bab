#!/usr/bin/env bash
# CI smoke of `warmcheck bench startup` (docs/BENCHMARKS.md "Startup"): a tiny run (10 k entries,
# 2 restarts) must finish, stop its servers and emit a JSON report with every row measured and a
# plot drawn from it. Timing targets are not asserted here: CI machines are loaded and shared.
set -euo pipefail
out=${1:-.build/test-logs}
mkdir -p "$out"
servers() { { pgrep -x redis-server; pgrep -x memcached; } | sort || true; }
before=$(servers)
.build/debug/warmcheck bench startup --entries 10000 --restarts 2 --cold-restarts 1 --cold-cost-us 5 \
  --json "$out/startup.json" --plot "$out/startup.svg"
python3 - "$out/startup.json" "$out/startup.svg" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = {(x["row"], x["language"]) for x in r["rows"] if x["status"] == "measured"}
need = {(k, l) for k in ("a", "a-batched", "b", "c", "f") for l in ("go", "rust")} | {("a-legacy", "go"), ("d", "go"), ("e", "go")}
missing = need - rows
assert not missing, f"rows not measured: {sorted(missing)}"
for x in r["rows"]:
    if x["status"] == "measured":
        assert x["firstHit"]["p50"] > 0, x
        assert x["row"] == "f" or x["served99"]["p50"] > 0, x
assert not any(x["status"] == "pending" for x in r["rows"]), "a row is still pending"
assert all(x["segmentBytes"] > 0 for x in r["rows"] if x["row"] == "b"), "row b without the restored segment's size"
assert "restored from the store" in open(sys.argv[2]).read(), "row b is not in the plot"
assert r["targets"], "no targets judged"
assert any(t["what"] == "(d) / (a-batched) to 99 % served" for t in r["targets"]), "no ratio to row a-batched"
assert "(c) / (a-batched)" in open(sys.argv[2]).read(), "the a-batched ratios are not in the plot"
assert open(sys.argv[2]).read().lstrip().startswith("<svg"), "plot is not an SVG"
print("bench startup smoke: JSON and plot valid")
PY
# Nothing may be left running: every server the bench started must be gone.
left=$(comm -13 <(echo "$before") <(servers))
if [ -n "$left" ]; then echo "bench startup left servers running: $left" >&2; exit 1; fi
