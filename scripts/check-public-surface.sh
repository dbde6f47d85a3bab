#!/usr/bin/env bash
# check-public-surface.sh: what a service sees of the three libraries (issue 12 §3).
#   - Go: a service outside this module requires the module by its path (go.work, or a replace
#     for a checkout elsewhere), with the network off, and builds; `go doc` of the package lists
#     none of the harness hooks, and a service importing internal/harness (the fixture's way to
#     them) is refused by Go's internal/ rule.
#   - Rust: a crate depending on warmcache without the `harness` feature builds a service with
#     the public API (struct-update syntax on every options struct included), and cannot name a
#     single harness hook (fault switches, pause hooks, trace, simulated clock, staged writes);
#     the very same hook code compiles with the feature, so each refusal is the feature's doing.
#   - Swift: a file with a plain `import Warmcache` type-checks against the built module (needs
#     `swift build` first) and cannot name a hook; with `@_spi(Harness) import` the same code can.
# Prints one line per check and ends with `surface: K passed, M failed` (scripts/test.sh counts
# it with line:surface). Work files live in a temporary directory removed on exit.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/warmcache-surface.XXXXXX")"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# check NAME COMMAND...: passes iff COMMAND exits 0; its output is shown only on failure.
check() {
  local name=$1; shift
  if out=$("$@" 2>&1); then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/     /' | tail -20; failed=$((failed + 1))
  fi
}

# refuse NAME PATTERN COMMAND...: passes iff COMMAND fails and its output matches PATTERN (the
# failure is the one expected, not an unrelated build error).
refuse() {
  local name=$1 pattern=$2; shift 2
  if out=$("$@" 2>&1); then
    echo "FAIL $name: accepted"; failed=$((failed + 1))
  elif grep -qE "$pattern" <<<"$out"; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name: failed, but not with /$pattern/"; printf '%s\n' "$out" | sed 's/^/     /' | tail -20
    failed=$((failed + 1))
  fi
}

# ---- Go: the module path ------------------------------------------------------------------
gomod=$(sed -n 's/^module //p' "$root/go-fixture/go.mod")
export GOPROXY=off GOFLAGS=-mod=mod GOWORK=off
[ -n "${HOME:-}" ] || export GOCACHE="$root/.build/go-cache" GOPATH="$root/.build/gopath"

# A service: its own module, importing the package by the module path, using the public API.
service() { # service DIR
  mkdir -p "$1"
  cat >"$1/main.go" <<EOF
package main

import (
	"fmt"
	"os"
	"time"

	"$gomod/warmcache"
)

func main() {
	path := fmt.Sprintf("/dev/shm/warmcache-surface-%d.wc", os.Getpid())
	defer os.Remove(path)
	c, _, err := warmcache.OpenOrCreate(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.Put([]byte("k"), []byte("v"), warmcache.PutOptions{TTL: time.Minute}); err != nil {
		panic(err)
	}
	if !c.Get([]byte("k")).Hit {
		panic("miss")
	}
}
EOF
  printf 'module example.com/service\n\ngo 1.19\n' >"$1/go.mod"
}

go_replace() {
  service "$work/go-replace"
  printf 'require %s v0.0.0\n\nreplace %s => %s\n' "$gomod" "$gomod" "$root/go-fixture" >>"$work/go-replace/go.mod"
  (cd "$work/go-replace" && go build -o service . && ./service)
}
go_work() {
  service "$work/go-work"
  (cd "$work/go-work" && export GOWORK= GOFLAGS= && go work init . "$root/go-fixture" && go build -o service . && ./service)
}
go_path_is_dotted() { # the first element has a dot: `go get` resolves it (a bare name never is)
  [[ "${gomod%%/*}" == *.* ]] || { echo "module path $gomod: first element has no dot"; return 1; }
}
check "go: module path $gomod is one a service can require" go_path_is_dotted
check "go: a service requires $gomod with a replace of a local checkout, offline" go_replace
check "go: a service uses $gomod through go.work, its go.mod untouched, offline" go_work

# The harness hooks are unexported in package warmcache (internal/harness reaches them).
godoc=$(cd "$root/go-fixture" && go doc -all ./warmcache 2>&1) || godoc="go doc failed: $godoc"
for name in Faults ParseFault FaultNames FaultPublishBeforePayload SetPauseHook PauseHook EnableTrace DrainTrace \
  SetSimClock SimClockStart Trace; do
  if grep -qw -- "$name" <<<"$godoc"; then
    echo "FAIL go: go doc of the package lists $name:"; grep -nw -- "$name" <<<"$godoc" | head -5 | sed 's/^/     /'
    failed=$((failed + 1))
  else
    echo "ok   go: go doc of the package does not list $name"; passed=$((passed + 1))
  fi
done
go_internal() {
  service "$work/go-internal"
  printf 'require %s v0.0.0\n\nreplace %s => %s\n' "$gomod" "$gomod" "$root/go-fixture" >>"$work/go-internal/go.mod"
  printf 'package main\n\nimport _ "%s/internal/harness"\n' "$gomod" >"$work/go-internal/hooks.go"
  (cd "$work/go-internal" && go build -o service .)
}
refuse "go: a service cannot import $gomod/internal/harness" "use of internal package .* not allowed" go_internal

# ---- Rust: the harness feature ------------------------------------------------------------
# Probes share one target directory in .build, so warmcache is compiled once per feature set.
rust_probe() { # rust_probe NAME DEPENDENCY-EXTRA MAIN.RS: builds (and runs) a one-file crate
  local d="$work/rust-$1"
  mkdir -p "$d/src"
  printf '[package]\nname = "probe-%s"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nwarmcache = { path = "%s"%s }\n\n[workspace]\n' \
    "$1" "$root/rust-fixture" "$2" >"$d/Cargo.toml"
  printf '%s\n' "$3" >"$d/src/main.rs"
  (cd "$d" && CARGO_TARGET_DIR="$root/.build/surface-rust" "$root/scripts/cargo-offline.sh" run --quiet 2>&1)
}
rust_service='use std::time::Duration;
use warmcache::{Cache, CreateOptions, Geometry, OpenOptions, PutOptions};
fn main() {
    let path = format!("/dev/shm/warmcache-surface-rust-{}.wc", std::process::id());
    let (c, _) = Cache::open_or_create(&path, Geometry::default(),
        CreateOptions { group_access: false, ..Default::default() },
        OpenOptions { ready_timeout: Duration::from_secs(1), ..Default::default() }).unwrap();
    c.put(b"k", b"v", PutOptions { ttl: Duration::from_secs(60), ..Default::default() }).unwrap();
    assert!(c.get(b"k").is_hit());
    let _ = c.wait_for_change(c.generation(), Duration::ZERO);
    assert_eq!(c.stats().totals.counters.hits, 1);
    std::fs::remove_file(&path).unwrap();
}'
# One hook per line; `use` lines first, since rustc reports every error of the file.
rust_hooks='#![allow(unused)]
use warmcache::{Fault, Faults, PauseHook, PausePoint, Event, Staged};
use warmcache::faults::Fault as FaultPath;
use warmcache::pause::PausePoint as PausePath;
use warmcache::trace::Event as EventPath;
use warmcache::{Cache, CreateOptions, OpenOptions, PutOptions};
fn hooks(c: &mut Cache) {
    let _ = OpenOptions { faults: Default::default(), ..Default::default() };
    let _ = OpenOptions { pause_hook: None, ..Default::default() };
    let _ = OpenOptions { trace: true, ..Default::default() };
    let _ = CreateOptions { sim_clock_ns: Some(1), ..Default::default() };
    c.set_pause_hook(None);
    let _ = c.set_sim_clock(1);
    let _ = c.take_events();
    let _ = c.tracing();
    let _ = c.faults();
    let _ = c.put_staged(b"k", b"v", PutOptions::default());
}
fn main() {}'
check "rust: a service builds and runs on the public API without the harness feature" rust_probe service "" "$rust_service"
check "rust: the same hook code compiles with the harness feature (the probe is sound)" rust_probe hooks-on ', features = ["harness"]' "$rust_hooks"
# The probe without the feature must fail, and rustc must name every hook as missing.
if hooks_off=$(rust_probe hooks-off "" "$rust_hooks"); then
  hooks_off="(the probe compiled without the harness feature: the hooks are public)"
fi
reported() { # reported NAME TEXT: passes iff rustc's output for the probe contains TEXT
  if grep -qF -- "$2" <<<"$hooks_off"; then
    echo "ok   $1"; passed=$((passed + 1))
  else
    echo "FAIL $1: rustc did not report: $2"; printf '%s\n' "$hooks_off" | grep -E '^error' | sed 's/^/     /' | head -30
    failed=$((failed + 1))
  fi
}
for hook in Fault Faults PauseHook PausePoint Event Staged; do
  reported "rust: warmcache::$hook is not public without the feature" "no \`$hook\` in the root"
done
for module in faults pause trace; do
  reported "rust: warmcache::$module is private without the feature" "module \`$module\` is private"
done
for field in faults pause_hook trace sim_clock_ns; do
  reported "rust: the options have no \`$field\` without the feature" "has no field named \`$field\`"
done
for method in set_pause_hook set_sim_clock take_events tracing faults put_staged; do
  reported "rust: Cache has no \`$method\` without the feature" "no method named \`$method\` found"
done

# ---- Swift: @_spi(Harness) ------------------------------------------------------------------
swift_modules="$root/.build/debug/Modules"
swift_probe() { # swift_probe NAME IMPORT-LINE BODY: type-checks one file against the built module
  printf '%s\n%s\n' "$2" "$3" >"$work/$1.swift"
  swiftc -typecheck "$work/$1.swift" -I "$swift_modules" \
    -Xcc -fmodule-map-file="$root/.build/debug/CWarmcacheShim.build/module.modulemap" \
    -Xcc -I -Xcc "$root/Sources/CWarmcacheShim/include" \
    -Xcc -fmodule-map-file="$root/.build/checkouts/swift-atomics/Sources/_AtomicsShims/include/module.modulemap" \
    -Xcc -I -Xcc "$root/.build/checkouts/swift-atomics/Sources/_AtomicsShims/include" 2>&1
}
swift_service='func service(_ path: String) throws {
    let c = try WarmCache.openOrCreate(path: path, geometry: .default,
                                       options: WarmCacheOptions(openTimeoutNs: 1_000_000_000, legacySweep: false))
    _ = c.put(Array("k".utf8), Array("v".utf8), options: PutOptions(ttlNs: 60_000_000_000))
    _ = c.get(Array("k".utf8))
    _ = try c.waitForChange(seen: c.generation(), timeout: .seconds(1))
    _ = try c.stats()
}'
# One hook per line; each name appears in the compiler's complaint about its line.
swift_hooks='func hooks(_ c: WarmCache) throws {
    let f: Faults = [.publishBeforePayload]
    let p: PausePoint? = PausePoint.allCases.first
    let h: PauseHook? = nil
    let t: [Transition] = c.drainTransitions()
    _ = c.isTracing
    try c.setSimClock(1)
    c.pauseHook = nil
    _ = c.faults
    var o = WarmCacheOptions()
    o.trace = true
    o.faults = []
    o.simClockStartNs = 1
    o.pauseHook = nil
    _ = o.harness(trace: true)
    _ = (f, p, h, t)
}'
if [ -f "$swift_modules/Warmcache.swiftmodule" ]; then
  check "swift: a service type-checks with a plain import Warmcache" swift_probe service "import Warmcache" "$swift_service"
  check "swift: the same hook code type-checks with @_spi(Harness) import (the probe is sound)" \
    swift_probe hooks_spi "@_spi(Harness) import Warmcache" "$swift_hooks"
  if swift_hooks_off=$(swift_probe hooks_plain "import Warmcache" "$swift_hooks"); then
    swift_hooks_off="(type-checked with a plain import: the hooks are public)"
  fi
  for name in Faults PausePoint PauseHook Transition drainTransitions isTracing setSimClock pauseHook faults trace simClockStartNs harness; do
    # Every complaint names the declaration in quotes: "cannot find type 'Faults' in scope",
    # "'setSimClock' is inaccessible due to '@_spi' protection level", ….
    if grep -E "error: .*'$name'" <<<"$swift_hooks_off" >/dev/null; then
      echo "ok   swift: $name is not visible to a plain import Warmcache"; passed=$((passed + 1))
    else
      echo "FAIL swift: $name is visible to a plain import Warmcache"
      printf '%s\n' "$swift_hooks_off" | grep -E 'error:' | sed 's/^/     /' | head -20; failed=$((failed + 1))
    fi
  done
else
  echo "FAIL swift: $swift_modules/Warmcache.swiftmodule is missing (run swift build first)"; failed=$((failed + 1))
fi

echo "surface: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
