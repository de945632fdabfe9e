# thread-os-exit: os._exit in a thread ends the whole process, its other threads with it.
import multiprocessing as mp, os, threading, time
TICK = 0.1
def work():
    time.sleep(1 * TICK)
    print(f"{threading.current_thread().name}: os._exit(4)", flush=True)
    os._exit(4)
def other():
    time.sleep(5 * TICK)
    print("never: other", flush=True)
def child():
    t = threading.Thread(target=work); t.start()
    o = threading.Thread(target=other); o.start()
    t.join()
    print("never: main", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=child); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
