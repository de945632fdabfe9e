# proc-reap-on-poll: a child that has ended is reaped when its parent reads its exitcode or
# is_alive() (a poll: waitpid WNOHANG), or starts another child (_cleanup()): /proc shows the
# zombie before and nothing after. One tick is 0.1 s.
import multiprocessing as mp, time
TICK = 0.1
def short():
    print(f"{mp.current_process().name}: done", flush=True)
def state(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("State:"))
    except FileNotFoundError:
        return "gone"
if __name__ == "__main__":
    mp.set_start_method("fork")
    a = mp.Process(target=short); a.start(); time.sleep(2 * TICK)
    assert state(a.pid).startswith("Z"), state(a.pid)
    print(f"{a.name} exitcode {a.exitcode}", flush=True)
    assert state(a.pid) == "gone"
    b = mp.Process(target=short); b.start(); time.sleep(2 * TICK)
    assert state(b.pid).startswith("Z"), state(b.pid)
    c = mp.Process(target=short); c.start()
    assert state(b.pid) == "gone"
    c.join()
    print(f"after starting {c.name}: {b.name} alive {b.is_alive()}", flush=True)
    d = mp.Process(target=short); d.start(); time.sleep(2 * TICK)
    assert state(d.pid).startswith("Z"), state(d.pid)
    print(f"{d.name} alive {d.is_alive()}", flush=True)
    assert state(d.pid) == "gone"
