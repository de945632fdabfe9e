# procsim scenarios/proc-wait.json: os.wait() reaps the first zombie in creation order.
# Prints: reaped first / reaped second / ChildProcessError: [Errno 10] No child processes
import os, time
pids = []
for n in (0.05, 0.001):
    pid = os.fork()
    if pid == 0:
        t = time.process_time()
        while time.process_time() - t < n: pass
        os._exit(0)
    pids.append(pid)
time.sleep(0.5)
for _ in range(2):
    pid, st = os.wait()
    print("reaped", "first" if pid == pids[0] else "second")
try:
    os.wait()
except ChildProcessError as e:
    print(type(e).__name__ + ":", e)
