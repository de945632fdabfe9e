# proc-zombie: the child ends at once, the parent joins it later; in between it is a zombie
import multiprocessing as mp, time, os
def work():
    print(f"{mp.current_process().name}: done", flush=True)
def state(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("State:"))
    except FileNotFoundError:
        return "gone (reaped)"
if __name__ == "__main__":
    mp.set_start_method("fork")
    w = mp.Process(target=work); w.start()
    time.sleep(0.5)
    print(f"MainProcess before join: {w.name} pid {w.pid} state {state(w.pid)}", flush=True)
    w.join()
    print(f"MainProcess after join: {w.name} state {state(w.pid)}, exitcode {w.exitcode}", flush=True)
    # NB: reading w.exitcode / is_alive() or starting another Process also reaps (waitpid WNOHANG)
    v = mp.Process(target=work); v.start(); time.sleep(0.5)
    print(f"before: {v.name} state {state(v.pid)}", flush=True)
    print(f"reading exitcode: {v.exitcode}", flush=True)
    print(f"after reading exitcode: {v.name} state {state(v.pid)}", flush=True)
