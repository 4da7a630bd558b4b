#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, each for
# FUZZTIME with one worker (-parallel 1), and writes a summary of the
# executions and crashers per target.
#
# Usage: scripts/fuzz.sh [DURATION] [PATTERN]
#   DURATION  time per target (default: $FUZZTIME, else 20s)
#   PATTERN   only targets whose "package FuzzName" matches this extended
#             regular expression (default: all)
# Environment:
#   FUZZ_SUMMARY  summary file (default: summary.tsv in the log folder)
#   FUZZ_LOGS     folder for each target's full output (default: a temp dir)
#
# A target that fails keeps its crasher in its package's testdata/fuzz/FuzzX/
# (go test writes it there): commit it as a regression seed after the fix.
# The exit status is 1 when any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."
t=${1:-${FUZZTIME:-20s}}
pattern=${2:-.}
logs=${FUZZ_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/envhunt-fuzz.XXXXXX")}
summary=${FUZZ_SUMMARY:-$logs/summary.tsv}
mkdir -p "$logs"

printf 'package\ttarget\tfuzztime\texecutions\tnew_crashers\tresult\n' >"$summary"
failed=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "$pkg $f" | grep -Eq -- "$pattern" || continue
    log="$logs/$(basename "$pkg")-$f.log"
    echo "== $pkg $f ($t, -parallel 1)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" -fuzzminimizetime 10s -parallel 1 "$pkg" >"$log" 2>&1
    rc=$?
    # The last progress line holds the total; the fuzzing engine prints
    # "execs: N" every few seconds and once at the end.
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    # go test names each crasher it keeps: "Failing input written to ...".
    crashers=$(grep -c 'Failing input written to' "$log")
    result=ok
    if [ "$rc" -ne 0 ]; then
      result=FAIL
      failed=1
      tail -30 "$log"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$pkg" "$f" "$t" "${execs:-0}" "$crashers" "$result" >>"$summary"
    echo "   executions ${execs:-0}, new crashers $crashers, $result (log: $log)"
  done
done
echo "summary: $summary"
column -t -s "$(printf '\t')" "$summary" 2>/dev/null || cat "$summary"
exit $failed
