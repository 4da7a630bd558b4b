# EVTX reader: records/s of `envhunt evtx` on the largest event log of the
# corpus, side by side with libevtx's evtxexport and python-evtx's
# evtx_dump.py on the same file in the same run (tools not installed are
# skipped). Sourced by scripts/bench.sh (which defines timeit, $corpus and
# $bin). Each tool prints every record (envhunt as JSON Lines, the others as
# XML); runs include process start-up, so the small file is read several
# times per run. The Go benchmarks of pkg/evtx (make bench) give the
# library's own figures.
evtx_file=$(ls -S "$corpus"/evtx/*.evtx 2>/dev/null | head -1)
if [ -n "$evtx_file" ] && [ -x "$bin" ]; then
  evtx_records=$("$bin" evtx --summary "$evtx_file" | sed -n 's/.*"records":\([0-9]*\).*/\1/p')
  echo "evtx: $(basename "$evtx_file"), ${evtx_records:-?} records"
  timeit "evtx --summary" "$bin" evtx --summary "$evtx_file"
  timeit "evtx (every record, jsonl)" "$bin" evtx "$evtx_file"
  # evtx_rate LABEL RUNS CMD...: run CMD RUNS times on the file, print the
  # mean records/s.
  evtx_rate() {
    local label=$1 runs=$2; shift 2
    local t0 t1
    t0=$(date +%s.%N)
    for _ in $(seq "$runs"); do "$@" "$evtx_file" >/dev/null 2>&1; done
    t1=$(date +%s.%N)
    awk -v l="$label" -v r="${evtx_records:-0}" -v n="$runs" -v t0="$t0" -v t1="$t1" 'BEGIN {
      t = (t1 - t0) / n; if (t <= 0) t = 1e-6
      printf "%-34s %10.0f records/s (%.3f s per file, mean of %d runs)\n", l, r / t, t, n
    }'
  }
  evtx_rate "envhunt evtx (jsonl)" 20 "$bin" evtx
  evtx_rate "envhunt evtx --format text" 20 "$bin" evtx --format text
  if command -v evtxexport >/dev/null; then
    evtx_rate "evtxexport -f xml (libevtx)" 20 evtxexport -f xml
    evtx_rate "evtxexport text (libevtx)" 20 evtxexport
  fi
  if [ -x /usr/bin/python3 ] && [ -x /usr/bin/evtx_dump.py ] && /usr/bin/python3 -c 'import Evtx' 2>/dev/null; then
    evtx_rate "evtx_dump.py (python-evtx)" 2 /usr/bin/python3 /usr/bin/evtx_dump.py
  fi
fi
