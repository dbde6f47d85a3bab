#!/bin/sh
# A stand-in for a third-party implementation, for the harness's own tests of the path a new
# implementation takes (docs/IMPLEMENTING.md): the Go fixture under another name and an
# unregistered language code (7), started without --trace, so that everything the harness knows
# about it comes from its hello. Extra arguments (a --fault) are passed on.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../../.build/fixtures/warmcache-go-fixture" serve --language stranger=7 "$@"
