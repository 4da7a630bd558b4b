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
  # evtx_rate LABEL RUNS CMD...: run CMD RUNS times on the file; print the
  # mean records/s of wall time and of CPU time (user + system, steadier on
  # a shared machine).
  evtx_rate() {
    local label=$1 runs=$2; shift 2
    local t0 t1 cpu
    cpu=$(mktemp)
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$cpu" sh -c 'n=$1; f=$2; shift 2; for _ in $(seq "$n"); do "$@" "$f" >/dev/null 2>&1; done' sh "$runs" "$evtx_file" "$@"
    t1=$(date +%s.%N)
    awk -v l="$label" -v r="${evtx_records:-0}" -v n="$runs" -v t0="$t0" -v t1="$t1" '{
      t = (t1 - t0) / n; if (t <= 0) t = 1e-6
      c = ($1 + $2) / n; if (c <= 0) c = 1e-6
      printf "%-34s %10.0f records/s wall %10.0f records/CPU-s (%.3f s, %.3f CPU s per file, %d runs)\n", l, r / t, r / c, t, c, n
    }' "$cpu"
    rm -f "$cpu"
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
