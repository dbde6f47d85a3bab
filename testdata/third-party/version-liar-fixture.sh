#!/bin/sh
# A third-party fixture that claims a protocol version it does not speak: the Go fixture, whose
# hello answer is rewritten to say minor 7 while every segment it writes still says 1.0. For the
# compat gate's bad-input test (docs/UPGRADING.md): the gate must refuse it (exit 2), naming it.
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../.build/fixtures/warmcache-go-fixture" serve --language stranger=7 "$@" |
  sed -u 's/"protocol":{"major":1,"minor":0}/"protocol":{"major":1,"minor":7}/'
