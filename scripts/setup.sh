#!/usr/bin/env bash
# Installs what the build needs and this kind of machine lacks: Go (Debian's golang-go, Go 1.19),
# the Rust crates Debian packages (libc, memmap2, serde_json) and libffi-dev (docs/ABI.md).
# Swift and cargo come with the machine. Idempotent: it installs only what is missing, and says exactly what to install when it
# cannot (not root).
set -euo pipefail

missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
for crate in libc memmap2 serde_json; do
  if ! compgen -G "/usr/share/cargo/registry/${crate}-[0-9]*" >/dev/null; then
    missing+=("librust-${crate//_/-}-dev")
  fi
done
# libffi: warmcheck calls the C ABI libraries (docs/ABI.md) through it; a fresh machine lacks the
# headers and pkg-config file, which Package.swift's CFFI system library target needs.
if ! pkg-config --exists libffi 2>/dev/null || ! [ -e /usr/include/x86_64-linux-gnu/ffi.h -o -e /usr/include/ffi.h ]; then
  missing+=(libffi-dev)
fi
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# The observe stage parses the exporter's scrapes with prometheus_client's parser
# (scripts/observe/check-observe.py looks in Debian's dist-packages when python3 lacks it).
if ! python3 -c 'import prometheus_client' 2>/dev/null && ! [ -d /usr/lib/python3/dist-packages/prometheus_client ]; then
  missing+=(python3-prometheus-client)
fi
# `warmcheck bench startup` compares a warm restart with Redis and memcached on loopback; it
# starts and stops its own servers, so the packages' own services must not be started here.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
# `warmcheck powercut` reads the writer's directory syncs with strace (DirectoryEntryTrace.swift).
command -v strace >/dev/null 2>&1 || missing+=(strace)
# The HTML failure reports are checked with a headless browser where one is present; optional.

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "warmcache: missing packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "warmcache: installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# policy-rc.d = 101: the maintainer scripts of redis-server/memcached must not start a daemon
# (nothing may be left running; the bench starts its own on a free port). Only ours is removed.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
fi
trap 'if $own_policy; then rm -f "$policy"; fi' EXIT
apt-get install -y -qq "${missing[@]}" >/dev/null
