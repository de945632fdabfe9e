# proc-daemon-raise: a process that raises still runs multiprocessing's exit handler: its
# daemon children get SIGTERM, the others are joined; in a child and in MainProcess alike
import atexit
def show():   # registered before multiprocessing is imported: runs after its exit handler
    if "d" in globals():
        print(f"after the exit handler: {d.name} exitcode {d.exitcode}, {w.name} exitcode {w.exitcode}", flush=True)
atexit.register(show)
import multiprocessing as mp, time
def sleeper(t):
    print(f"{mp.current_process().name}: sleeping {t}", flush=True)
    time.sleep(t)
    print(f"{mp.current_process().name}: woke", flush=True)
def mid():
    d = mp.Process(target=sleeper, args=(2,), daemon=True); d.start()
    time.sleep(0.2)
    raise ValueError("mid failed")
if __name__ == "__main__":
    mp.set_start_method("fork")
    m = mp.Process(target=mid); m.start(); m.join()
    print(f"{m.name} exitcode {m.exitcode}", flush=True)
    d = mp.Process(target=sleeper, args=(2,), daemon=True); d.start()
    w = mp.Process(target=sleeper, args=(0.4,)); w.start()
    time.sleep(0.2)
    raise RuntimeError("main failed")
