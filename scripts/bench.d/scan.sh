# Sourced by scripts/bench.sh: one host (SYSTEM, a SOFTWARE-sized hive and
# three NTUSER.DAT) scanned with the built-in rules, and the same files as
# events (every value of every hive) for comparison.
h=$corpus/hives
host_files=("$h/regipy/SYSTEM" "$h/regipy/ntuser_software_partial" "$h/regipy/NTUSER.DAT" "$h/regipy/transactions_NTUSER.DAT" "$h/velocidex/velocidex_NTUSER.DAT")
echo "== scan of one host: SYSTEM (11 MB), a SOFTWARE-sized hive (2.8 MB), three NTUSER.DAT"
for i in 1 2 3; do
  timeit "envhunt scan (run $i)" "$bin" scan --format jsonl "${host_files[@]}"
done
timeit "envhunt events (all events)" "$bin" events "${host_files[@]}"
echo "== demo collection (with roaming copy)"
timeit "envhunt scan demo" "$bin" scan --roaming testdata/demo/profiles testdata/demo/WS-DEV-07
