#!/usr/bin/env bash
# check-public-surface.sh: what a service sees of the three libraries (issue 12 §3).
#   - Go: a service outside this module requires the module by its path (go.work, or a replace
#     for a checkout elsewhere), with the network off, and builds.
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

echo "surface: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
