# proc-err-kill-sibling: the same, with kill() (and terminate()) on the inherited sibling handle
import multiprocessing as mp, time, sys
METHOD = sys.argv[1] if len(sys.argv) > 1 else "kill"   # or terminate
def sleeper():
    print(f"{mp.current_process().name}: sleeping", flush=True)
    time.sleep(1)
    print(f"{mp.current_process().name}: done", flush=True)
def killer():
    print(f"{mp.current_process().name}: killing {s.name} pid {s.pid}", flush=True)
    getattr(s, METHOD)()
    print(f"{mp.current_process().name}: {METHOD}() returned without error", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    s = mp.Process(target=sleeper); s.start()
    time.sleep(0.2)
    k = mp.Process(target=killer); k.start()
    k.join(); s.join()
    print(f"{s.name} exitcode {s.exitcode}; {k.name} exitcode {k.exitcode}", flush=True)
