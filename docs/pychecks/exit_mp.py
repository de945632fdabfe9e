# proc-exit-multiprocessing: the same programs as exit_posix.py, with a normal end of the main
# script: multiprocessing's exit handler terminates the daemon and joins the other child
import multiprocessing as mp, os, time
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
    print("MainProcess: ends, joining first", flush=True)
