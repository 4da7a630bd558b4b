# Hive reading: "envhunt dump --format jsonl" against hivexml and reglookup on
# the corpus SYSTEM hive (11 MB), each run 3 times; sourced by scripts/bench.sh
# (which defines timeit, $corpus and $bin). Prints the best wall time and peak
# memory of each tool and envhunt's ratios against them.
hive_sys="$corpus/hives/regipy/SYSTEM"
if [ -f "$hive_sys" ] && [ -x "$bin" ]; then
  echo "== hive: full listing of SYSTEM ($(($(stat -c %s "$hive_sys") / 1024)) KiB)"
  # hive_best CMD...: best of 3 runs as "seconds KiB".
  hive_best() {
    local best="" line out
    out=$(mktemp)
    for _ in 1 2 3; do
      /usr/bin/time -o "$out" -f '%e %M' "$@" >/dev/null 2>/dev/null
      line=$(tail -1 "$out")
      if [ -z "$best" ] || awk -v a="${line% *}" -v b="${best% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
    done
    rm -f "$out"
    echo "$best"
  }
  hive_env=$(hive_best "$bin" dump --format jsonl --no-logs "$hive_sys")
  printf '%-34s %8ss %8s KiB peak\n' "envhunt dump --format jsonl" $hive_env
  for tool in hivexml reglookup; do
    command -v "$tool" >/dev/null || { echo "$tool: not installed, skipped"; continue; }
    hive_other=$(hive_best "$tool" "$hive_sys")
    printf '%-34s %8ss %8s KiB peak\n' "$tool" $hive_other
    awk -v e="${hive_env% *}" -v o="${hive_other% *}" -v t="$tool" \
      'BEGIN{ if (e > 0) printf "%-34s %8.1fx faster\n", "  envhunt vs " t, o / e }'
  done
  awk -v m="${hive_env#* }" -v s="$(stat -c %s "$hive_sys")" \
    'BEGIN{ printf "%-34s %8.2fx the hive size\n", "  envhunt peak memory", m * 1024 / s }'
fi
