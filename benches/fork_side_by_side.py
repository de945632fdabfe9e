"""Side by side, interleaved so that both see the same load: the C loop (benches/fork_loop.c),
the same loop pinned to the CPU procsim pins a `cpus: 1` run to, and `procsim run --backend
fork` on 500 children forked and joined one after another (end to end, CLI to report).
Prints the median microseconds per child of each and the ratios, and beside them the median
CPU time (user + system, every process of the run: CLI, supervisor, scenario processes) and
minor page faults per child, from `RUSAGE_CHILDREN` around each run.

    python3 benches/fork_side_by_side.py [PROCSIM [ROUNDS [OTHER_PROCSIM ...]]]

Each OTHER_PROCSIM (another build, e.g. the one before a change) runs in the same rounds,
right after PROCSIM, and gets a line and ratios of its own: a before/after comparison that
sees the same load.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

N = 500
here = os.path.dirname(os.path.abspath(__file__))
procsim = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "target", "release", "procsim")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
others = sys.argv[3:]
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


def usage():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def measured(cmd, into):
    """Runs cmd; appends its CPU µs and minor faults per child to into."""
    cpu0, flt0 = usage()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu1, flt1 = usage()
    into.append(((cpu1 - cpu0) / N * 1e6, (flt1 - flt0) / N))
    return out


c, c_pinned = [], []
binaries = [procsim] + others
walls = {b: [] for b in binaries}
use = {"c": [], "pinned": []} | {b: [] for b in binaries}
for _ in range(rounds):
    c.append(float(measured([c_exe, str(N)], use["c"])))
    c_pinned.append(float(measured([c_exe, str(N), last_cpu], use["pinned"])))
    for b in binaries:
        t = time.perf_counter()
        measured([b, "run", "--backend", "fork", "--format", "summary", scenario], use[b])
        walls[b].append((time.perf_counter() - t) / N * 1e6)
m = statistics.median


def cpu_faults(k):
    return f"{m([u[0] for u in use[k]]):7.1f} µs CPU {m([u[1] for u in use[k]]):6.1f} faults"


print(f"C fork+_exit+waitpid   {m(c):8.1f} µs/child  ({cpu_faults('c')})")
print(f"C, pinned like procsim {m(c_pinned):8.1f} µs/child  ({cpu_faults('pinned')})")
for b in binaries:
    ps = walls[b]
    label = "" if b == procsim else f" [{b}]"
    print(f"procsim --backend fork {m(ps):8.1f} µs/child end to end ({isolation})  ({cpu_faults(b)}){label}")
    print(f"ratio procsim / C: {m(ps) / m(c):.2f}; procsim / pinned C: {m(ps) / m(c_pinned):.2f}")
    cpu_ratio = m([u[0] for u in use[b]]) / m([u[0] for u in use["pinned"]])
    print(f"CPU ratio procsim / pinned C: {cpu_ratio:.2f}")
    # Round by round (each round's runs saw about the same load), then the median: steadier
    # than the ratio of the medians when the load swings between rounds.
    paired = m([u[0] / p[0] for u, p in zip(use[b], use["pinned"])])
    print(f"CPU ratio procsim / pinned C, median of the rounds' ratios: {paired:.2f}")
    if b != procsim:
        cpu = m([o[0] / u[0] for o, u in zip(use[procsim], use[b])])
        wall = m([o / w for o, w in zip(walls[procsim], walls[b])])
        print(f"{procsim} / this, median of the rounds' ratios: CPU {cpu:.3f}, wall {wall:.3f}")
