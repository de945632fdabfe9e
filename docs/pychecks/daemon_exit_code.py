# proc-daemon-exit-code: sys.exit(3) in a child with a daemon and a normal child of its own:
# the exit handler still runs (SystemExit is an exit, not a kill): the daemon gets SIGTERM
# (-15), the normal child is joined, and the exit code is 3. One tick is 0.1 s.
import multiprocessing as mp, sys, time
TICK = 0.1
def grand(n):
    time.sleep(n * TICK)
    print(f"{mp.current_process().name}: done", flush=True)
def mid():
    d = mp.Process(target=grand, args=(10,), daemon=True); d.start()
    g = mp.Process(target=grand, args=(5,)); g.start()
    time.sleep(2 * TICK)
    sys.exit(3)
if __name__ == "__main__":
    mp.set_start_method("fork")
    m = mp.Process(target=mid); m.start(); m.join()
    print(f"{m.name} exitcode {m.exitcode}", flush=True)
