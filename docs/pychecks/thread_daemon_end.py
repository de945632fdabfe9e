# thread-daemon-end: a process ends when its main thread and its non-daemon threads have
# ended; a daemon thread still running then is cut short. One tick is 0.1 s here.
import multiprocessing as mp, threading, time
TICK = 0.1
def long(n):
    time.sleep(n * TICK)
    print(f"{threading.current_thread().name}: done after {n}", flush=True)
def child():
    threading.Thread(target=long, args=(5,), daemon=True).start()
    threading.Thread(target=long, args=(2,)).start()
    print(f"{mp.current_process().name}: main thread ends", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=child); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
    time.sleep(5 * TICK)
