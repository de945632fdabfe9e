# proc-kill9-orphan: killing a process with SIGKILL orphans its own children (reparented to init)
import multiprocessing as mp, time, os
def grand():
    print(f"{mp.current_process().name}: ppid {os.getppid()} before", flush=True)
    time.sleep(1)
    print(f"{mp.current_process().name}: ppid {os.getppid()} after", flush=True)
def work():
    g = mp.Process(target=grand); g.start()
    print(f"{mp.current_process().name}: started {g.name}", flush=True)
    time.sleep(10)
if __name__ == "__main__":
    mp.set_start_method("fork")
    print(f"MainProcess pid {os.getpid()}", flush=True)
    w = mp.Process(target=work); w.start()
    time.sleep(0.3)
    print(f"MainProcess: {w.name} is pid {w.pid}", flush=True)
    w.kill(); w.join()
    print(f"{w.name} exitcode {w.exitcode}", flush=True)
    time.sleep(1.5)   # only so that the orphan's last line is seen before the script returns
