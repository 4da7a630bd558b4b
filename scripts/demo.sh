#!/usr/bin/env bash
# Scans the bundled demo collection (testdata/demo; its README.md lists what
# is planted and what envhunt reports for it), with the server-side copy of
# the roaming profile. Nothing is regenerated: the collection is committed.
# Called by `make demo` after `make build`; ENVHUNT_BIN selects another
# binary than ./bin/envhunt.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${ENVHUNT_BIN:-./bin/envhunt}
demo=testdata/demo

if [ ! -x "$bin" ]; then
	echo "demo: $bin not found; run 'make build' first" >&2
	exit 2
fi
echo "\$ envhunt scan --roaming $demo/profiles $demo/WS-DEV-07"
"$bin" scan --roaming "$demo/profiles" "$demo/WS-DEV-07"
rc=$?
# 0: nothing at --fail-level; 1: findings at --fail-level. Both are success
# for a demo; anything else is reported.
case $rc in
0 | 1) exit 0 ;;
*) echo "demo: envhunt exited $rc" >&2; exit $rc ;;
esac
