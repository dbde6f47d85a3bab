#!/usr/bin/env bash
# count-tests.sh HOW LOG: prints "PASSED FAILED SKIPPED" for one stage of scripts/test.sh, counted
# from what the runner wrote for machines, never from a summary it prints for people:
#   go-json          LOG is `go test -json` output: one event per test (subtests included); a
#                    package that failed without a failing test (a build error, a panic before
#                    any test) counts as one failure
#   xctest           LOG is `swift test` console output: XCTest's per-test "Test Case '…'
#                    passed|failed|skipped" lines; fewer results than "Executed N tests" announced
#                    counts the difference as failed (a crash mid-run)
#   junit:FILE       a JUnit/xUnit XML file (Swift Testing's --xunit-output): one <testcase> each,
#                    failed if it holds <failure> or <error>, skipped if <skipped>
#   swift:FILE       xctest on LOG plus junit:FILE (SwiftPM writes XCTest's xUnit file only with
#                    --parallel, which would change how the timing-sensitive tests run)
#   cargo            LOG is `cargo test` output: per-test "test NAME ... ok|FAILED|ignored" lines;
#                    tests announced by "running N tests" without a result line count as failed
#   warmcheck:FILE   a warmcheck --json report: `run` (one "verdict" per case), `matrix` (one
#                    "pass" per cell and golden reader) or `selftest` (one "killed" per fault)
#   line:NAME        the last line of LOG reading "NAME: K passed, M failed[, S skipped]"
#   exit:STATUS      one test, passed iff the stage's exit STATUS is 0
# A missing file counts nothing; scripts/test.sh turns "nothing counted" into a failure.
set -uo pipefail
how=$1
log=$2
# Results a runner announced but never reported (it crashed first) count as failures.
unreported='END { missing = announced - (pass + fail + skip); if (missing > 0) fail += missing; print pass + 0, fail + 0, skip + 0 }'

case "$how" in
  go-json)
    # test2json events are flat one-line objects; only "Action" and "Test" matter here.
    awk '
      function field(name,   m) {
        if (match($0, "\"" name "\":\"[^\"]*\"")) { m = substr($0, RSTART, RLENGTH); sub("^\"" name "\":\"", "", m); sub("\"$", "", m); return m }
        return ""
      }
      /^\{/ {
        a = field("Action"); t = field("Test"); p = field("Package")
        if (t != "") {
          if (a == "pass") pass++
          else if (a == "fail") { fail++; failed_in[p] = 1 }
          else if (a == "skip") skip++
        } else if (a == "fail" && !(p in failed_in)) fail++
      }
      # Go 1.19 reports a package that does not compile in plain text, outside the events.
      /^FAIL[ \t].*\[(build|setup) failed\]$/ { fail++ }
      END { print pass + 0, fail + 0, skip + 0 }' "$log" ;;
  swift:*)
    # XCTest from the console log plus Swift Testing from its xUnit file, one `swift test` run.
    read -r p1 f1 s1 < <("$0" xctest "$log")
    read -r p2 f2 s2 < <("$0" "junit:${how#swift:}" "$log")
    echo $((p1 + p2)) $((f1 + f2)) $((s1 + s2)) ;;
  xctest)
    awk '
      /^Test Case .* passed \(/ { pass++ }
      /^Test Case .* failed \(/ { fail++ }
      /^Test Case .* skipped \(/ { skip++ }
      /^[[:space:]]*Executed [0-9]+ tests?, with/ { n = $2 + 0; if (n > announced) announced = n }
      '"$unreported" "$log" ;;
  junit:*)
    f=${how#junit:}
    [ -f "$f" ] || { echo "0 0 0"; exit 0; }
    awk 'BEGIN { RS = "<testcase[ >]" }
      NR > 1 { if ($0 ~ /<failure|<error/) fail++; else if ($0 ~ /<skipped/) skip++; else pass++ }
      END { print pass + 0, fail + 0, skip + 0 }' "$f" ;;
  cargo)
    awk '
      /^running [0-9]+ tests?$/ { announced += $2 }
      /^test .* \.\.\. ok$/ { pass++ }
      /^test .* \.\.\. FAILED$/ { fail++ }
      /^test .* \.\.\. ignored(, .*)?$/ { skip++ }
      '"$unreported" "$log" ;;
  warmcheck:*)
    f=${how#warmcheck:}
    [ -f "$f" ] || { echo "0 0 0"; exit 0; }
    # The reports are pretty-printed one key per line; a string value cannot hold a newline, so
    # a line that starts with the key is that key. Which keys count depends on the report: a
    # selftest kill also carries the "verdict" of the case that killed it.
    if [ "$(awk 'NF { print substr($1, 1, 1); exit }' "$f")" = "[" ]; then
      pattern='"killed": (true|false)'
    elif grep -q '^  "cells": ' "$f"; then
      pattern='"pass": (true|false)'
    else
      pattern='"verdict": "[a-z]+"'
    fi
    awk -v pattern="^ *$pattern,?\$" '
      $0 !~ pattern { next }
      /"killed": true|"pass": true|"verdict": "pass"/ { pass++; next }
      /"verdict": "(skip|xfail)"/ { skip++; next }
      { fail++ }
      END { print pass + 0, fail + 0, skip + 0 }' "$f" ;;
  line:*)
    name=${how#line:}
    awk -v name="$name" '
      index($0, name ": ") == 1 && / (passed|failed)(,|$)/ { line = substr($0, length(name) + 3) }
      END {
        p = f = s = 0
        n = split(line, parts, ", ")
        for (i = 1; i <= n; i++) {
          split(parts[i], kv, " ")
          if (kv[2] == "passed") p = kv[1] + 0
          else if (kv[2] == "failed") f = kv[1] + 0
          else if (kv[2] == "skipped") s = kv[1] + 0
        }
        print p, f, s
      }' "$log" ;;
  exit:*)
    if [ "${how#exit:}" = 0 ]; then echo "1 0 0"; else echo "0 1 0"; fi ;;
  *)
    echo "count-tests.sh: unknown counter $how" >&2
    exit 2 ;;
esac
