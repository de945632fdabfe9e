# proc-pid-wrap (what can be checked without changing pid_max): Linux hands out pids counting
# up from the last one, and does not reuse a freed (reaped) pid before wrapping at pid_max.
import multiprocessing as mp, os, time
def work():
    pass
def sleeper():
    time.sleep(1)
if __name__ == "__main__":
    mp.set_start_method("fork")
    a = mp.Process(target=sleeper); a.start()
    pids = [a.pid]
    for i in range(4):
        w = mp.Process(target=work); w.start(); w.join()   # reaped at once: its pid is free
        pids.append(w.pid)
    a.join()
    print("pids in creation order:", pids, "increasing:", pids == sorted(pids), flush=True)
    with open("/proc/sys/kernel/pid_max") as f:
        print("pid_max", f.read().strip(), flush=True)
    try:
        with open("/proc/sys/kernel/pid_max", "w") as f:
            f.write("8")
        print("pid_max set to 8 (unexpected)")
    except OSError as e:
        print("setting pid_max to 8:", e, flush=True)
