#!/bin/sh
# Time to the first row, and peak memory, of a sweep of 10^6 runs (BENCHMARKS.md, "Hostile
# input"): procsim sweep FILE --set kernel.quantum=1..1000 --set kernel.context_switch=0..999,
# stopped once the header and the first row are out (head -2: procsim then ends on a closed
# pipe), for one or two binaries side by side. Also a product of 4,000 runs whose values are
# each good with the others' first values, but whose run 2001 (20 processes, pid_max 21) is
# not: the rows before it and the time to its error.
# Usage: benches/sweep_first_row.sh NEW_BINARY [OLD_BINARY] [SCENARIO]
# A binary that has written no row after $LIMIT seconds (default 120) is stopped.
# Needs GNU time (/usr/bin/time).
set -eu
new=$1
old=${2:-}
scenario=${3:-scenarios/rr-io-v1.json}
limit=${LIMIT:-120}
dir=$(mktemp -d "${TMPDIR:-/tmp}/procsim-sweep.XXXXXX")
trap 'rm -rf "$dir"' EXIT
uptime
first_row() {
    bin=$1
    rm -f "$dir/t1"
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$dir/time" timeout "$limit" sh -c "\"$bin\" sweep \"$scenario\" --set kernel.quantum=1..1000 --set kernel.context_switch=0..999 | { head -2 > \"$dir/rows\"; date +%s.%N > \"$dir/t1\"; }" || true
    kb=$(tail -1 "$dir/time")
    if [ -s "$dir/t1" ]; then
        echo "$(echo "$(cat "$dir/t1") - $start" | bc) s to the first row, $((kb / 1024)) MB peak"
    else
        echo "no row in $limit s (stopped), $((kb / 1024)) MB peak"
    fi
}
# 18 or 20 processes; pid_max 21 leaves 19 pids: too few only for 20.
cat > "$dir/combo.json" <<'JSON'
{"programs": {"m": {"body": [{"cpu": 1}]}}, "processes": [{"program": "m", "count": 18}]}
JSON
bad_late() {
    bin=$1
    /usr/bin/time -f "%e s, %M KB" -o "$dir/time" "$bin" sweep "$dir/combo.json" \
        --set "processes[0].count=18,20" --set kernel.quantum=1..1000 --set kernel.pid_max=100,21 \
        > "$dir/rows" 2> "$dir/err" || true
    echo "$(cat "$dir/time"): $(grep -c "^[0-9]" "$dir/rows" || true) rows, then: $(cut -c1-100 "$dir/err")"
}
for bin in "$new" $old; do
    echo "== $bin"
    echo "10^6 runs of $scenario: $(first_row "$bin")"
    echo "bad combination first at run 2001 of 4000: $(bad_late "$bin")"
done
