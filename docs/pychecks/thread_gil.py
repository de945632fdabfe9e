# thread-gil-two-cpus: with the GIL, two CPU-bound threads of one process take about twice as
# long as one, even on two CPUs; two processes take about as long as one. Run it on a machine
# with two CPUs free (on a loaded machine the processes' part is slowed too); it asserts on
# the wall-clock times, against one spin alone measured in the same run, and prints the same
# lines as the scenario. One spin is 1 s of CPU here.
import multiprocessing as mp, threading, time
SPIN = 1.0
def spin():
    end = time.thread_time() + SPIN
    while time.thread_time() < end:
        pass
if __name__ == "__main__":
    mp.set_start_method("fork")
    t0 = time.monotonic()
    spin()
    one = time.monotonic() - t0
    t0 = time.monotonic()
    a = threading.Thread(target=spin); b = threading.Thread(target=spin)
    a.start(); b.start(); a.join(); b.join()
    threads = time.monotonic() - t0
    print("two threads of one process: done", flush=True)
    t0 = time.monotonic()
    p = mp.Process(target=spin); q = mp.Process(target=spin)
    p.start(); q.start(); p.join(); q.join()
    procs = time.monotonic() - t0
    print("two processes: done", flush=True)
    import sys
    print(f"(one spin {one:.2f} s, two threads {threads:.2f} s, two processes {procs:.2f} s)", file=sys.stderr)
    assert threads > 1.7 * one, (one, threads)
    assert procs < 1.4 * one, (one, procs)
