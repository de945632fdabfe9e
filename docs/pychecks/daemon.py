# proc-daemon: when the main process ends, daemon children get SIGTERM, the others are joined.
# The atexit hook below is registered BEFORE multiprocessing.util, so it runs AFTER
# multiprocessing's own exit handler (atexit runs last-registered first).
import atexit, time, os, signal
procs = []
def report():
    for p in procs:
        sig = signal.Signals(-p.exitcode).name if p.exitcode and p.exitcode < 0 else None
        print(f"after MainProcess's exit handler: {p.name} daemon={p.daemon} exitcode={p.exitcode} signal={sig}", flush=True)
atexit.register(report)
import multiprocessing as mp
import multiprocessing.util
def daemon_work():
    print("daemon: started", flush=True)
    time.sleep(100)
    print("daemon: finished (never printed)", flush=True)
def normal_work():
    time.sleep(1.0)
    print("normal: finished", flush=True)
def stopped_work():
    print("stopped: started", flush=True)
    time.sleep(100)
    print("stopped: finished (never printed)", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    multiprocessing.util.log_to_stderr(10)
    d = mp.Process(target=daemon_work, daemon=True); d.start()
    n = mp.Process(target=normal_work); n.start()
    s = mp.Process(target=stopped_work); s.start()
    procs[:] = [d, n, s]
    time.sleep(0.3)
    s.terminate()                      # the notes' second way: terminate()
    print("main: ends", flush=True)
    t0 = time.time()
