# proc-join-timeout: join(timeout) returns None with the child alive and exitcode None;
# join(0) returns at once; a join whose child ends first returns then and reaps it; a plain
# join waits. One tick is 0.1 s here.
import multiprocessing as mp, time
TICK = 0.1
def slow():
    print(f"{mp.current_process().name}: sleeping", flush=True)
    time.sleep(40 * TICK)
    print(f"{mp.current_process().name}: done", flush=True)
def quick():
    end = time.process_time() + 2 * TICK
    while time.process_time() < end:
        pass
    print(f"{mp.current_process().name}: done", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    patience = 3
    w = mp.Process(target=slow); w.start()
    w.join(patience * TICK)
    print(f"after join(3): {w.name} alive={w.is_alive()} exitcode={w.exitcode}", flush=True)
    w.join(0)
    print(f"after join(0): alive={w.is_alive()}", flush=True)
    q = mp.Process(target=quick); q.start()
    t0 = time.monotonic()
    q.join(100000 * TICK)
    assert time.monotonic() - t0 < 5, "join waited for its timeout"
    print(f"joined {q.name} before its timeout: exitcode={q.exitcode} alive={q.is_alive()}", flush=True)
    w.join(None)
    print(f"joined {w.name}: exitcode={w.exitcode} alive={w.is_alive()}", flush=True)
