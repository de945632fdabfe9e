"""Side by side, interleaved so that both see the same load: the C loop (benches/fork_loop.c),
the same loop pinned to the CPU procsim pins a `cpus: 1` run to, and `procsim run --backend
fork` on 500 children forked and joined one after another (end to end, CLI to report).
Prints the median microseconds per child of each and the ratios.

    python3 benches/fork_side_by_side.py [PROCSIM [ROUNDS]]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

N = 500
here = os.path.dirname(os.path.abspath(__file__))
procsim = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "target", "release", "procsim")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
tmp = tempfile.mkdtemp()
c_exe = os.path.join(tmp, "fork_loop")
subprocess.run(["cc", "-O2", "-o", c_exe, os.path.join(here, "fork_loop.c")], check=True)
scenario = os.path.join(tmp, "fork500.json")
with open(scenario, "w") as f:
    json.dump({"programs": {"main": {"body": [{"repeat": {"times": N, "body": [
        {"fork": {"as": "w", "program": "child"}}, {"join": "w"}]}}]},
        "child": {"body": []}}, "processes": [{"program": "main"}]}, f)
last_cpu = str(os.cpu_count() - 1)
# Which isolation ran (one JSON run); the timed runs print only the summary, so that
# pretty-printing a report of 501 processes is not counted as forking.
out = subprocess.run([procsim, "run", "--backend", "fork", "--format", "json", scenario],
                     capture_output=True, text=True, check=True).stdout
isolation = json.loads(out)["real"]["isolation"]
c, c_pinned, ps = [], [], []
for _ in range(rounds):
    c.append(float(subprocess.run([c_exe, str(N)], capture_output=True, text=True, check=True).stdout))
    c_pinned.append(float(subprocess.run([c_exe, str(N), last_cpu], capture_output=True, text=True, check=True).stdout))
    t = time.perf_counter()
    subprocess.run([procsim, "run", "--backend", "fork", "--format", "summary", scenario],
                   capture_output=True, text=True, check=True)
    ps.append((time.perf_counter() - t) / N * 1e6)
m = statistics.median
print(f"C fork+_exit+waitpid   {m(c):8.1f} µs/child")
print(f"C, pinned like procsim {m(c_pinned):8.1f} µs/child")
print(f"procsim --backend fork {m(ps):8.1f} µs/child end to end ({isolation})")
print(f"ratio procsim / C: {m(ps) / m(c):.2f}; procsim / pinned C: {m(ps) / m(c_pinned):.2f}")
