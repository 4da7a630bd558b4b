# ETL reader: time `envhunt etl` on the largest trace of the corpus and report
# MB/s and events/s. Sourced by scripts/bench.sh (which defines timeit,
# $corpus and $bin). The file is small, so it is given many times to one
# run to keep process start-up out of the figure. The Go benchmarks of
# pkg/etl (make bench) give the library's own figures.
etl_file=$(ls -S "$corpus"/etl/*.etl 2>/dev/null | head -1)
if [ -n "$etl_file" ] && [ -x "$bin" ]; then
  timeit "etl --summary $(basename "$etl_file")" "$bin" etl --summary "$etl_file"
  timeit "etl (every event, jsonl)" "$bin" etl "$etl_file"
  etl_size=$(stat -c %s "$etl_file")
  etl_events=$("$bin" etl --summary "$etl_file" | sed -n 's/.*"compressed_buffers":[0-9]*,"events":\([0-9]*\).*/\1/p')
  etl_copies=200
  etl_args=()
  for _ in $(seq "$etl_copies"); do etl_args+=("$etl_file"); done
  for etl_mode in --summary --format=jsonl; do
    etl_t0=$(date +%s.%N)
    "$bin" etl "$etl_mode" "${etl_args[@]}" >/dev/null 2>&1
    etl_t1=$(date +%s.%N)
    awk -v s="$etl_size" -v e="${etl_events:-0}" -v n="$etl_copies" -v t0="$etl_t0" -v t1="$etl_t1" -v m="$etl_mode" 'BEGIN {
      t = t1 - t0
      printf "%-34s %8.1f MB/s %10.0f events/s (%d x %d bytes in %.2fs)\n", "etl " m, s * n / t / 1e6, e * n / t, n, s, t
    }'
  done
fi
