# proc-exit-posix: a parent that ends at once (os._exit skips multiprocessing's exit handler,
# like a plain fork/exit in C): its children are orphans, reparented, and run on.
import multiprocessing as mp, os, time, sys
def child_work():
    print(f"{mp.current_process().name}: ppid {os.getppid()} before", flush=True)
    time.sleep(1)
    print(f"{mp.current_process().name}: ppid {os.getppid()} later", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    print(f"MainProcess pid {os.getpid()}", flush=True)
    d = mp.Process(target=child_work, daemon=True); d.start()
    w = mp.Process(target=child_work); w.start()
    time.sleep(0.3)
    print("MainProcess: os._exit(0)", flush=True)
    os._exit(0)
