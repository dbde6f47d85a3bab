#!/usr/bin/env bash
# Runs cargo against Debian's packaged crates (librust-*-dev) when they are installed, since this
# machine cannot reach the public registry. Cargo.toml stays ordinary: the source replacement is
# passed on the command line (global options, before the subcommand), never written into the project.
set -euo pipefail
reg=/usr/share/cargo/registry
if [ -d "$reg" ] && [ -z "${WARMCACHE_CARGO_ONLINE:-}" ]; then
  exec cargo --offline \
    --config 'source.crates-io.replace-with="debian"' \
    --config "source.debian.directory=\"$reg\"" "$@"
fi
exec cargo "$@"
