# multiprocessing reaps finished children on its own: Process.start() first calls _cleanup(),
# which polls (waitpid WNOHANG) every child it knows; so a zombie lasts only until the next start()
import multiprocessing as mp, time
def leaf(): pass
def state(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("State:"))
    except FileNotFoundError:
        return "gone (reaped)"
if __name__ == "__main__":
    mp.set_start_method("fork")
    b = mp.Process(target=leaf); b.start(); time.sleep(0.3)
    print(f"{b.name} pid {b.pid}: {state(b.pid)}", flush=True)
    c = mp.Process(target=leaf); c.start()
    print(f"after starting {c.name}: {b.name} {state(b.pid)}", flush=True)
    c.join()
