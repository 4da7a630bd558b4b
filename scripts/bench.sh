#!/usr/bin/env bash
# Side-by-side measurements of envhunt and the reference tools on the same
# files in one run. Needs the shared corpus beside the checkout; tools that are
# not installed are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
corpus=${ENVHUNT_CORPUS:-../shared/corpus}
bin=./bin/envhunt
[ -d "$corpus" ] || { echo "bench: no corpus at $corpus, skipping side-by-side runs"; exit 0; }

# timeit LABEL CMD...: wall seconds and peak RSS of one run, output discarded.
timeit() {
  local label=$1; shift
  local tf
  tf=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$tf" "$@" >/dev/null 2>&1
  printf '%-34s %8ss %8s KiB peak\n' "$label" $(tail -1 "$tf")
  rm -f "$tf"
}

for s in scripts/bench.d/*.sh; do
  [ -f "$s" ] && . "$s"
done
