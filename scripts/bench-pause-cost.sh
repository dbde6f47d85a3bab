#!/usr/bin/env bash
# bench-pause-cost.sh [ROUNDS] — what the §17 pause points cost when no hook is installed.
#
# docs/PROTOCOL.md §17 claims an unset pause hook costs "nothing measurable". This measures it:
# per language, the bench's get-hit figure (64-byte value, --get-hit-only) of a normal build
# ("on": pause points compiled in, hook unset) against a build with the points compiled out
# ("off": Go -tags warmcache_nopause, Rust --features no-pause-points, Swift
# -DWARMCACHE_NO_PAUSE_POINTS). The two builds run alternately (on/off, then off/on, ...) for
# ROUNDS rounds (default 6) so that drift in machine load hits both alike; the table gives the
# median and best p50 of each build, the ratio of the medians and of the bests, and the spread
# between rounds of the same build ((worst-best)/best, over all rounds and over the faster half),
# which is the noise the ratios have to be read against. "within noise" means |best ratio - 1| <=
# the larger faster-half spread of the two builds: on a shared 2-vCPU machine a few rounds are
# slowed by other processes, so medians and all-round spreads are inflated by load, not code.
#
# Rust and Swift benches have --get-hit-only (one key=value line, including
# pause_points_compiled, which is checked). The Go bench has no such flag (go-fixture/cmd is left
# untouched): its full run is used and the "get-hit 64B" row parsed; the Go build is checked with
# `go version -m` (the -tags build setting). A language whose toolchain is missing is skipped
# (said so). Env: LANGS="go rust swift", SWIFT_BATCHES (default 20000 batches of 100 gets),
# GO_DURATION (Go throughput runs, default 500ms), PAUSECOST_KEEP=1 keeps the raw per-round lines.
#
# SWITCH=counters measures the shard counters (§6) the same way instead: "on" keeps them, "off" is
# Go -tags warmcache_nocounters / Rust --features no-counters (the bench line says
# counters_compiled). Go and Rust only: Swift has no such switch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-${ROUNDS:-6}}
case ${SWITCH:-pause} in
pause) what="pause points" go_tag=warmcache_nopause rust_feature=no-pause-points rust_off=off key=pause_points_compiled langs=${LANGS:-go rust swift} ;;
counters) what=counters go_tag=warmcache_nocounters rust_feature=no-counters rust_off=off-counters key=counters_compiled langs=${LANGS:-go rust} ;;
*) echo "SWITCH must be pause or counters" >&2; exit 2 ;;
esac
echo "== switch: ${SWITCH:-pause} (on = normal build; off = $go_tag / $rust_feature)"
if [ "$rounds" -lt 4 ]; then echo "warning: $rounds rounds cannot measure noise; use 6 or more" >&2; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/warmcache-pausecost.XXXXXX")
raw=$work/raw.txt
: >"$raw"
if [ -z "${PAUSECOST_KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; fi

declare -A bin # bin[lang-on], bin[lang-off]
built=()

echo "== building (normal build = $what compiled in; second build = compiled out)"
for lang in $langs; do
  case $lang in
  go)
    if ! command -v go >/dev/null; then echo "go: toolchain missing, skipped"; continue; fi
    (cd "$root/go-fixture" &&
      go build -o "$work/go-on" ./cmd/warmcache-bench &&
      go build -tags "$go_tag" -o "$work/go-off" ./cmd/warmcache-bench)
    bin[go-on]="$work/go-on" bin[go-off]="$work/go-off"
    # The Go bench cannot say which build it is; the binary's recorded build settings can.
    m_on=$(go version -m "$work/go-on") m_off=$(go version -m "$work/go-off")
    if [[ $m_on == *"$go_tag"* || $m_off != *"-tags=$go_tag"* ]]; then
      echo "go: build tags not as expected" >&2; exit 1
    fi
    ;;
  rust)
    if ! command -v cargo >/dev/null; then echo "rust: toolchain missing, skipped"; continue; fi
    # Own target dirs, so the normal rust-fixture/target is neither rebuilt nor disturbed.
    t=$root/rust-fixture/target-pausecost
    (cd "$root/rust-fixture" &&
      CARGO_TARGET_DIR=$t/on ../scripts/cargo-offline.sh build --quiet --release --bin warmcache-bench &&
      CARGO_TARGET_DIR=$t/$rust_off ../scripts/cargo-offline.sh build --quiet --release --bin warmcache-bench \
        --features "$rust_feature")
    bin[rust-on]="$t/on/release/warmcache-bench" bin[rust-off]="$t/$rust_off/release/warmcache-bench"
    ;;
  swift)
    if ! command -v swift >/dev/null; then echo "swift: toolchain missing, skipped"; continue; fi
    # Separate scratch paths: the -D flag changes every module's build settings, and sharing one
    # .build would rebuild the other variant each time.
    (cd "$root" &&
      swift build -c release --scratch-path .build-pausecost-on --product warmcache-swift-bench >/dev/null &&
      swift build -c release --scratch-path .build-pausecost-off --product warmcache-swift-bench \
        -Xswiftc -DWARMCACHE_NO_PAUSE_POINTS >/dev/null)
    bin[swift-on]="$root/.build-pausecost-on/release/warmcache-swift-bench"
    bin[swift-off]="$root/.build-pausecost-off/release/warmcache-swift-bench"
    ;;
  *) echo "unknown language $lang" >&2; exit 2 ;;
  esac
  built+=("$lang")
  echo "$lang: built"
done
[ ${#built[@]} -gt 0 ] || { echo "nothing to run" >&2; exit 1; }

# run LANG BUILD ROUND: one --get-hit-only run (Go: one full run); checks that the binary is the
# build it claims to be (the Rust and Swift benches print pause_points_compiled; Go's tags were
# checked after building), so a flag that did not reach the compiler shows.
run() {
  local lang=$1 build=$2 round=$3 line want
  want=true; [ "$build" = off ] && want=false
  case $lang in
  go)
    # Row "get-hit 64B  p50 p99 ops/s" of the full bench, rewritten to the --get-hit-only form.
    line=$("${bin[$lang-$build]}" -duration "${GO_DURATION:-500ms}" |
      awk -v w="$want" -v k="$key" '$1 == "get-hit" && $2 == "64B" {
        printf "get-hit-64 lang=go %s=%s p50_ns=%s p99_ns=%s gets_per_s=%s\n", k, w, $3, $4, $5 }')
    ;;
  rust) line=$("${bin[$lang-$build]}" --get-hit-only) ;;
  swift) line=$("${bin[$lang-$build]}" --get-hit-only --batches "${SWIFT_BATCHES:-20000}") ;;
  esac
  case $line in
  *"$key=$want "*) ;;
  *) echo "$lang $build: expected $key=$want, got: $line" >&2; exit 1 ;;
  esac
  # raw line: lang build round p50 p99 gets/s
  echo "$line" | sed -E "s/.*p50_ns=([0-9.]+) p99_ns=([0-9.]+) gets_per_s=([0-9.]+).*/$lang $build $round \1 \2 \3/" >>"$raw"
  printf '  round %d %-5s %-3s %s\n' "$round" "$lang" "$build" "${line#get-hit-64 }"
}

echo "== load before: $(uptime)"
echo "== $rounds rounds, builds alternating (odd rounds on→off, even rounds off→on)"
for ((r = 1; r <= rounds; r++)); do
  for lang in "${built[@]}"; do
    if ((r % 2)); then run "$lang" on "$r"; run "$lang" off "$r"; else run "$lang" off "$r"; run "$lang" on "$r"; fi
  done
done
echo "== load after: $(uptime)"

# stats LANG BUILD COL: "median best worst steady" of column COL (4 = p50, 6 = gets/s) over the
# rounds; steady = the worst of the faster half of the rounds. On a shared machine some rounds are
# slowed by other processes (another process on the other vCPU, migrations), and those outliers
# say nothing about the code, so the noise floor is taken from the faster half.
stats() {
  awk -v l="$1" -v b="$2" -v c="$3" '$1 == l && $2 == b { print $c }' "$raw" | sort -g |
    awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      print m, v[1], v[NR], v[int((NR + 1) / 2)] }'
}

echo
echo "get-hit 64 B, p50 ns/op: median of $rounds rounds (best in brackets); gets/s: median of rounds"
echo "spread = (worst-best)/best of one build's rounds: all rounds / faster half (the noise floor);"
echo "verdict: best-p50 ratio against the larger faster-half spread of the two builds"
printf '%-6s | %-18s | %-18s | %-15s | %-15s | %-13s | %-13s | %-11s | %-11s | %s\n' lang "p50 compiled in" \
  "p50 compiled out" "ratio medians" "ratio bests" "spread in" "spread out" "gets/s in" "gets/s out" verdict
for lang in "${built[@]}"; do
  read -r on_m on_b on_w on_s < <(stats "$lang" on 4)
  read -r off_m off_b off_w off_s < <(stats "$lang" off 4)
  read -r gon _ < <(stats "$lang" on 6)
  read -r goff _ < <(stats "$lang" off 6)
  awk -v lang="$lang" -v onm="$on_m" -v onb="$on_b" -v onw="$on_w" -v ons="$on_s" -v offm="$off_m" \
    -v offb="$off_b" -v offw="$off_w" -v offs="$off_s" -v gon="$gon" -v goff="$goff" -v what="$what" 'BEGIN {
      rm = onm / offm; rb = onb / offb
      aon = (onw - onb) / onb * 100; aoff = (offw - offb) / offb * 100    # all rounds
      son = (ons - onb) / onb * 100; soff = (offs - offb) / offb * 100    # faster half
      noise = (son > soff ? son : soff); d = (rb - 1) * 100; ad = (d < 0 ? -d : d)
      if (ad <= noise) verdict = sprintf("within noise (|%.1f%%| <= %.1f%%)", d, noise)
      else verdict = sprintf("%s with %s: %+.1f%% > noise %.1f%%", (d > 0 ? "slower" : "faster"), what, d, noise)
      printf "%-6s | %7.2f (%7.2f)  | %7.2f (%7.2f)  | %5.3f (%+5.1f%%) | %5.3f (%+5.1f%%) | %5.1f%% / %4.1f%% | %5.1f%% / %4.1f%% | %11.0f | %11.0f | %s\n",
        lang, onm, onb, offm, offb, rm, (rm - 1) * 100, rb, d, aon, son, aoff, soff, gon, goff, verdict
    }'
done
if [ -n "${PAUSECOST_KEEP:-}" ]; then echo "raw rounds: $raw"; fi
