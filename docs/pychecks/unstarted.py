# an unstarted Process: pid, exitcode, join() and kill() on it
import multiprocessing as mp
def leaf(): pass
if __name__ == "__main__":
    mp.set_start_method("fork")
    w = mp.Process(target=leaf)
    print(f"before start: pid {w.pid} exitcode {w.exitcode}", flush=True)
    for m in ("join", "kill", "terminate"):
        try:
            getattr(w, m)()
        except Exception as e:
            print(f"{m}() on an unstarted Process: {type(e).__name__}: {e}", flush=True)
