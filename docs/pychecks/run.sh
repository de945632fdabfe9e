#!/bin/bash
# Runs Python checks: bash docs/pychecks/run.sh docs/pychecks/names.py ...
# Shows each script's stdout, the exception lines of its stderr, and the main process's exit status.
# (CPython 3.11, Linux, fork start method; max_processes.py must run as root: it drops to nobody.)
tmp=$(mktemp -d)
for f in "$@"; do
  echo "=== $f"
  # stdout through a pipe: cat ends only when every writer, orphans included, has ended
  python3 "$f" 2>"$tmp/err" | cat >"$tmp/out"; rc=${PIPESTATUS[0]}
  sed 's/^/  out| /' "$tmp/out"
  grep -E '^(Process |[A-Za-z]*Error|AssertionError)' "$tmp/err" | sed 's/^/  err| /'
  echo "  exit status of the main python process: $rc"
done
rm -rf "$tmp"
