# proc-pid-at-start: a Process gets its pid at start() (the fork), not when it is created
import multiprocessing as mp, os
def leaf():
    print(f"{mp.current_process().name}: ppid is MainProcess {os.getppid() == mp.parent_process().pid}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    a = mp.Process(target=leaf)
    print(f"created {a.name}: pid {a.pid}", flush=True)
    b = mp.Process(target=leaf); b.start()
    print(f"started {b.name} first", flush=True)
    a.start()
    print(f"{b.name} started before {a.name}: smaller pid {b.pid < a.pid}", flush=True)
    a.join(); b.join()
    print(f"joined: {a.name} {a.exitcode}, {b.name} {b.exitcode}", flush=True)
