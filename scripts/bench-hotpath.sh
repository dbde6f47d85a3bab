#!/usr/bin/env bash
# Get-hit cost of builds of the Go and Rust benches, compared in ONE run (docs/BENCHMARKS.md
# "The get path, before and after").
#
#   scripts/bench-hotpath.sh [-r ROUNDS] [-c CPU] [-n] LABEL=BENCH_BINARY ...
#
# Each LABEL=BINARY is a build of go-fixture/cmd/warmcache-bench, of rust-fixture's
# warmcache-bench or of the Swift warmcache-swift-bench (release; told apart by their output). For ROUNDS rounds the builds take turns, each
# run pinned to CPU with taskset, WCH64 and FAST_CHECKSUM segments alike; the table gives, per
# build and checksum, the median over rounds of the get-hit p50 at 64 B and 1 KiB next to the
# median of the same runs' own baseline (Go map lookup + copy, Rust HashMap get + copy, Swift
# Dictionary lookup + copy), so a figure reads as a ratio when the machine is loaded. Every bench
# times batches of operations (1000 in Go and Rust, 100 in Swift) with two clock reads per batch,
# never one operation, and prints what one clock read costs ("timer:").
#
# Then, unless -n, the instructions per get from callgrind (the bench's `--gets N` mode, run at
# two N; the difference over the difference of N): a figure the load does not change, which
# decides where wall times are within noise. Needs valgrind.
set -euo pipefail
rounds=5 cpu=0 counts=1
while getopts r:c:n o; do
  case $o in
    r) rounds=$OPTARG ;; c) cpu=$OPTARG ;; n) counts=0 ;;
    *) echo "usage: $0 [-r ROUNDS] [-c CPU] [-n] LABEL=BENCH_BINARY ..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r ROUNDS] [-c CPU] [-n] LABEL=BENCH_BINARY ..." >&2; exit 2; }
labels=() bins=()
for a in "$@"; do
  l=${a%%=*} b=${a#*=}
  [ "$l" != "$a" ] && [ -x "$b" ] || { echo "bench-hotpath: '$a' is not LABEL=EXECUTABLE" >&2; exit 2; }
  labels+=("$l") bins+=("$b")
done
raw=$(mktemp -d /tmp/bench-hotpath.XXXXXX)
trap 'rm -rf "$raw"; rm -f /dev/shm/warmcache-bench-hotpath-$$' EXIT INT TERM

# The Rust and Swift benches' --gets lines name their compile-time switches; the Go bench's
# does not. The Swift one says lang=swift; its timed figure is get(_:into:).
is_go() { ! "$1" --gets 0 2>/dev/null | grep -q pause_points_compiled; }
is_swift() { "$1" --gets 0 2>/dev/null | grep -q lang=swift; }

# One run: prints "get64 base64 get1024 base1024" (p50 ns).
run_once() { # BINARY FAST(0|1)
  local b=$1 fast=$2 flag out
  if is_go "$b"; then
    flag=; [ "$fast" = 1 ] && flag=-fast-checksum
    out=$(taskset -c "$cpu" "$b" -samples 1000 -duration 100ms $flag)
    awk '/^get-hit 64B/{g1=$3} /^map baseline 64B/{b1=$4} /^get-hit 1024B/{g2=$3} /^map baseline 1024B/{b2=$4}
         END{print g1, b1, g2, b2}' <<<"$out"
  elif is_swift "$b"; then
    flag=; [ "$fast" = 1 ] && flag=--fast-checksum
    out=$(taskset -c "$cpu" "$b" $flag --path "/dev/shm/warmcache-bench-hotpath-$$")
    awk '/^get\(into:\)-hit 64 B/{g1=$4} /dict lookup\+copy 64 B/{b1=$5} /^get\(into:\)-hit 1024 B/{g2=$4} /dict lookup\+copy 1024 B/{b2=$5}
         END{print g1, b1, g2, b2}' <<<"$out"
  else
    flag=; [ "$fast" = 1 ] && flag=--fast-checksum
    out=$(taskset -c "$cpu" "$b" $flag "/dev/shm/warmcache-bench-hotpath-$$")
    awk 'function p50(){for(i=1;i<NF;i++) if($i=="p50") return $(i+1)}
         /^value /{s=$2} /HashMap get\+copy/{b[s]=p50()} /get_into \(hit\)/{g[s]=p50()}
         END{print g[64], b[64], g[1024], b[1024]}' <<<"$out"
  fi
}

median() { sort -g | awk '{v[NR]=$1} END{ if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2 }'; }

echo "bench-hotpath: $rounds rounds on CPU $cpu, $(uptime | sed 's/.*load/load/')"
for ((r = 1; r <= rounds; r++)); do
  for i in "${!bins[@]}"; do
    for fast in 0 1; do
      run_once "${bins[$i]}" $fast >>"$raw/$i.$fast"
    done
  done
done
echo "after the runs: $(uptime | sed 's/.*load/load/')"

ir_per_get() { # BINARY FAST SIZE
  local b=$1 fast=$2 size=$3 g flag n1=20000 n2=120000 c1 c2
  if is_go "$b"; then g=-gets flag=-fast-checksum sz=-size; else g=--gets flag=--fast-checksum sz=--size; fi
  [ "$fast" = 1 ] || flag=
  # valgrind 3.19 cannot read the DWARF a Swift release build carries ("Possibly corrupted
  # debuginfo file"): count a copy without it (the symbols stay).
  if is_swift "$b"; then strip --strip-debug -o "$raw/swift-bench" "$b"; b=$raw/swift-bench; fi
  ir() { # Go's async preemption signals are not survivable under callgrind
    GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$raw/cg" \
      "$b" $g "$1" $sz "$size" $flag 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  c1=$(ir $n1) c2=$(ir $n2)
  [ -n "$c1" ] && [ -n "$c2" ] || { echo "?"; return; }
  awk -v a="$c1" -v b="$c2" -v n=$((n2 - n1)) 'BEGIN{printf "%.0f", (b - a) / n}'
}

echo
echo "| build | checksum | get-hit 64 B p50 (baseline) | ratio | get-hit 1 KiB p50 (baseline) | ratio | instructions/get 64 B | 1 KiB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for i in "${!bins[@]}"; do
  for fast in 0 1; do
    f="$raw/$i.$fast"
    g1=$(awk '{print $1}' "$f" | median) b1=$(awk '{print $2}' "$f" | median)
    g2=$(awk '{print $3}' "$f" | median) b2=$(awk '{print $4}' "$f" | median)
    i1=- i2=-
    if [ "$counts" = 1 ]; then i1=$(ir_per_get "${bins[$i]}" $fast 64) i2=$(ir_per_get "${bins[$i]}" $fast 1024); fi
    name=WCH64; [ $fast = 1 ] && name=WCH64X4
    printf '| %s | %s | %s (%s) | %.2f | %s (%s) | %.2f | %s | %s |\n' "${labels[$i]}" $name "$g1" "$b1" \
      "$(awk -v a="$g1" -v b="$b1" 'BEGIN{print a/b}')" "$g2" "$b2" "$(awk -v a="$g2" -v b="$b2" 'BEGIN{print a/b}')" "$i1" "$i2"
  done
done
echo
echo "rounds (get64 base64 get1024 base1024 per line) were in $raw, removed on exit; medians above."
