"""What a forking process's weight costs a fork, on the bare C loop: benches/fork_loop_weight.c
with more resident anonymous pages, more mappings, more pages written after each fork, and all
three, each against the plain loop in the same rounds (alternated, pinned to the last CPU).
Prints the median CPU µs a child and the median of the rounds' ratios to the plain loop.

    python3 benches/fork_loop_weight.py [ROUNDS [CONFIGS]]

CONFIGS: comma-separated "PAGES VMAS WRITES" triples, the first the reference
(default "0 0 0,120 0 0,0 15 0,0 0 8,120 15 8": procsim's top-level process carried about 100
more resident anonymous pages and 15 more mappings than the C loop before the fourth round).
"""
import os
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
configs = (sys.argv[2] if len(sys.argv) > 2 else "0 0 0,120 0 0,0 15 0,0 0 8,120 15 8").split(",")
exe = os.path.join(tempfile.mkdtemp(), "fork_loop_weight")
subprocess.run(["cc", "-O2", "-o", exe, os.path.join(here, "fork_loop_weight.c")], check=True)
cpu = str(os.cpu_count() - 1)
res = {c: [] for c in configs}
for _ in range(rounds):
    for c in configs:
        out = subprocess.run([exe, "2000", cpu] + c.split(), capture_output=True, text=True, check=True)
        res[c].append(float(out.stdout))
ref = res[configs[0]]
for c in configs:
    paired = statistics.median([x / y for x, y in zip(res[c], ref)])
    print(f"pages/mappings/writes {c:>10}: {statistics.median(res[c]):7.1f} µs CPU a child, x{paired:.3f} the plain loop")
