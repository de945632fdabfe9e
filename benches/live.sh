#!/bin/sh
# Peak memory (max RSS) and time of the workloads of issue #13 whose memory must follow the
# live processes, two binaries side by side in one run (BENCHMARKS.md, "Memory that follows
# the live processes").
# Usage: benches/live.sh NEW_BINARY [OLD_BINARY] -- WORKLOAD:N[:FORMAT] ...
#   (FORMAT: the run's --format, `summary` when not given; not for validate)
#   forkjoin:N  `repeat N { fork c; join c }`, one child alive at a time, --format summary
#   chain:N     a chain of N processes, each `cpu 1, fork node, join` (default names
#               Process-1:1:…), --format summary
#   fan:N       one process forks N children that all stay alive (each sleeps 10^6 ticks),
#               then its exit handler joins them, --format summary
#   validate:N  `procsim validate` of `procsim gen --processes N` (N programs)
# Needs GNU time (/usr/bin/time).
set -eu
new=$1; shift
old=""
if [ "$1" != "--" ]; then old=$1; shift; fi
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/procsim-live.XXXXXX")
trap 'rm -rf "$dir"' EXIT
scenario() {
    kind=$1 n=$2
    f="$dir/$kind-$n.json"
    [ -f "$f" ] && { echo "$f"; return; }
    case $kind in
    forkjoin) cat > "$f" <<JSON
{"kernel": {"max_steps": 100000000000, "max_trace": 100000000000},
 "programs": {"main": {"body": [{"repeat": {"times": $n, "body": [
                {"fork": {"as": "c", "program": "c"}}, {"join": "c"}]}}]},
              "c": {"body": [{"cpu": 1}]}},
 "processes": [{"program": "main"}]}
JSON
    ;;
    chain) cat > "$f" <<JSON
{"kernel": {"max_processes": $n, "pid_max": 4194304, "max_trace": 100000000000},
 "programs": {"node": {"body": [{"cpu": 1}, {"fork": {"as": "c", "program": "node"}},
                                {"join": "c"}]}},
 "processes": [{"program": "node"}]}
JSON
    ;;
    fan) cat > "$f" <<JSON
{"kernel": {"max_processes": 1000000, "pid_max": 4194304, "max_steps": 100000000000},
 "programs": {"main": {"body": [{"repeat": {"times": $n, "body": [
                {"fork": {"as": "c", "program": "kid"}}]}}]},
              "kid": {"body": [{"sleep": 1000000}]}},
 "processes": [{"program": "main"}]}
JSON
    ;;
    validate) "$new" gen --seed 1 --processes "$n" > "$f" ;;
    esac
    echo "$f"
}
measure() {
    bin=$1 kind=$2 f=$3 fmt=$4
    if [ "$kind" = validate ]; then
        /usr/bin/time -f "%M %e" -o "$dir/time" "$bin" validate "$f" > /dev/null || true
    else
        /usr/bin/time -f "%M %e" -o "$dir/time" "$bin" run "$f" --format "$fmt" > /dev/null || true
    fi
    read -r kb s < "$dir/time"
    echo "$((kb / 1024)) MB, $s s"
}
printf '%-10s %10s  %-22s %-22s\n' workload N new old
for case in "$@"; do
    kind=${case%%:*} rest=${case#*:}
    n=${rest%%:*} fmt=summary
    [ "$rest" != "$n" ] && fmt=${rest#*:}
    f=$(scenario "$kind" "$n")
    a=$(measure "$new" "$kind" "$f" "$fmt")
    b=""
    [ -n "$old" ] && b=$(measure "$old" "$kind" "$f" "$fmt")
    printf '%-10s %10s  %-22s %-22s\n' "$kind:$fmt" "$n" "$a" "$b"
done
