# Batch triage: envhunt scan over N generated hosts (SYSTEM, SOFTWARE and one
# NTUSER.DAT each, written by pkg/hive/hivetest) at --jobs 1 and 2, for
# N = 50 and 500: wall time, hosts/s and peak RSS of the whole process.
# Sourced by scripts/bench.sh (which defines timeit and $bin). The Go
# benchmark BenchmarkBatchScan (pkg/scan, make bench) gives the library's
# figures: hosts/s, CPU ms per host, peak heap and RSS.
if [ -x "$bin" ]; then
  batch_dir=$(mktemp -d)
  for batch_n in 50 500; do
    rm -rf "$batch_dir/hosts"
    ENVHUNT_BATCH_OUT="$batch_dir/hosts" ENVHUNT_BATCH_N=$batch_n \
      go test -count=1 -run '^TestWriteBatchHosts$' ./pkg/scan >/dev/null || { echo "batch: could not write hosts"; break; }
    for batch_jobs in 1 2; do
      batch_tf=$(mktemp)
      /usr/bin/time -f '%e %M' -o "$batch_tf" "$bin" scan --quiet --jobs "$batch_jobs" --format jsonl "$batch_dir/hosts" >/dev/null 2>&1
      read -r batch_s batch_kib < <(tail -1 "$batch_tf")
      rm -f "$batch_tf"
      awk -v n="$batch_n" -v j="$batch_jobs" -v s="$batch_s" -v k="$batch_kib" 'BEGIN {
        if (s <= 0) s = 0.001
        printf "%-34s %8.2fs %8.1f hosts/s %8d KiB peak\n", sprintf("scan %d hosts --jobs %d", n, j), s, n / s, k
      }'
    done
  done
  rm -rf "$batch_dir"
fi
