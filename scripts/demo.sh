#!/usr/bin/env bash
# Runs envhunt on the bundled demo collection (testdata/demo; its README.md
# lists what is planted and what envhunt should report). Nothing is
# regenerated: the collection is committed. Called by `make demo` after
# `make build`.
#
# When the scan command exists, the demo is one scan of the host (with the
# server-side roaming copies when scan takes --roaming). Until then it shows
# what the hive commands see: base-block and recovery facts, and the planted
# Environment keys. ENVHUNT_BIN selects another binary than ./bin/envhunt.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${ENVHUNT_BIN:-./bin/envhunt}
demo=testdata/demo
host=$demo/WS-DEV-07
config=$host/C/Windows/System32/config

if [ ! -x "$bin" ]; then
	echo "demo: $bin not found; run 'make build' first" >&2
	exit 2
fi

# has_command NAME: the binary lists NAME among its commands.
has_command() { "$bin" help 2>&1 | grep -qE "^[[:space:]]+$1([[:space:]]|$)"; }

# run ARGS...: print the command line, run it, and keep going on the exit
# codes that carry results (1 findings at --fail-level, 3 partial input).
status=0
run() {
	printf '\n$ envhunt %s\n' "$*"
	"$bin" "$@"
	local rc=$?
	case $rc in
	0 | 1) ;;
	3) echo "(exit 3: some input was only partly read; see above)" ;;
	*) echo "(exit $rc)"; status=$rc ;;
	esac
}

if has_command scan; then
	args=(scan "$host")
	if "$bin" scan --help 2>&1 | grep -q -- '--roaming'; then
		args+=(--roaming "$demo/profiles")
	fi
	run "${args[@]}"
	exit $status
fi

echo "envhunt has no scan command yet: showing what the hive commands see in $demo."
echo "See $demo/README.md for what is planted."
for h in "$config/SYSTEM" "$config/SOFTWARE" "$host/C/Users/alice/NTUSER.DAT" \
	"$host/C/Users/bob/NTUSER.DAT" "$host/C/Users/carol/NTUSER.DAT" "$demo/profiles/alice.V6/NTUSER.DAT"; do
	run info "$h"
done
run dump --format text --key 'ControlSet001\Control\Session Manager\Environment' "$config/SYSTEM"
run dump --format text --key 'ControlSet001\Services\wdfilter2' "$config/SYSTEM"
run dump --format text --key 'ControlSet001\Control\CI' "$config/SYSTEM"
run dump --format text --key 'Microsoft\Windows NT\CurrentVersion\ProfileList' "$config/SOFTWARE"
for h in "$host/C/Users/alice/NTUSER.DAT" "$demo/profiles/alice.V6/NTUSER.DAT" "$host/C/Users/carol/NTUSER.DAT"; do
	run dump --format text --key Environment "$h"
done
run dump --format text --key 'Software\Microsoft\Windows\CurrentVersion\Group Policy\Scripts' "$host/C/Users/alice/NTUSER.DAT"
echo
echo "bob's hive is dirty: as on disk, then with NTUSER.DAT.LOG1 applied (the default):"
run dump --format text --no-logs --key Environment "$host/C/Users/bob/NTUSER.DAT"
run dump --format text --key Environment "$host/C/Users/bob/NTUSER.DAT"
run dump --format text --key 'Software\Microsoft\Command Processor' "$host/C/Users/bob/NTUSER.DAT"
exit $status
