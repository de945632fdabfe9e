# proc-err-daemon-fork: a daemon process that forks a child in one step (Process(...).start(),
# procsim's `fork`): the same assertion as spawn + start
import multiprocessing as mp
def leaf():
    print("leaf: never printed", flush=True)
def daemon_work():
    print(f"{mp.current_process().name}: forking a child", flush=True)
    c = mp.Process(target=leaf); c.start()
    print("never printed", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    d = mp.Process(target=daemon_work, daemon=True); d.start(); d.join()
    print(f"{d.name} exitcode {d.exitcode}", flush=True)
