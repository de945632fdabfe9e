#!/bin/sh
# Peak memory (max RSS) and time of procsim's output formats on RR-IO-v1, two binaries side by
# side in one run (BENCHMARKS.md, "Output formats at scale").
# Usage: benches/memory.sh NEW_BINARY [OLD_BINARY] -- FORMAT:N ...
# e.g. benches/memory.sh target/release/procsim ./procsim-old -- table:1000000 perfetto:10000
# Each scenario is RR-IO-v1 (scenarios/rr-io-v1.json) at N processes, with the limits raised to
# fit; the output goes to /dev/null. Needs GNU time (/usr/bin/time).
set -eu
new=$1; shift
old=""
if [ "$1" != "--" ]; then old=$1; shift; fi
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/procsim-memory.XXXXXX")
trap 'rm -rf "$dir"' EXIT
scenario() {
    n=$1
    f="$dir/rr-io-v1-$n.json"
    [ -f "$f" ] || cat > "$f" <<JSON
{"name": "RR-IO-v1, N = $n",
 "kernel": {"quantum": 10, "max_processes": $n, "pid_max": 4194304,
            "max_ticks": 100000000000, "max_steps": 100000000000,
            "max_trace": 100000000000, "max_events": 100000000000},
 "programs": {"job": {"body": [{"repeat": {"times": 9, "body": [{"cpu": 50}, {"io": 20}]}},
                               {"cpu": 50}]}},
 "processes": [{"program": "job", "count": $n}]}
JSON
    echo "$f"
}
measure() {
    bin=$1 fmt=$2 f=$3
    /usr/bin/time -f "%M %e" -o "$dir/time" "$bin" run "$f" --format "$fmt" > /dev/null || true
    read -r kb s < "$dir/time"
    echo "$((kb / 1024)) MB, $s s"
}
printf '%-10s %10s  %-22s %-22s\n' format N new old
for case in "$@"; do
    fmt=${case%%:*} n=${case#*:}
    f=$(scenario "$n")
    a=$(measure "$new" "$fmt" "$f")
    b=""
    [ -n "$old" ] && b=$(measure "$old" "$fmt" "$f")
    printf '%-10s %10s  %-22s %-22s\n' "$fmt" "$n" "$a" "$b"
done
