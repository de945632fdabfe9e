# thread-signal: SIGKILL to a process ends it with all its threads.
import multiprocessing as mp, threading, time
TICK = 0.1
def sleeper():
    time.sleep(10 * TICK)
    print("never: thread", flush=True)
def child():
    a = threading.Thread(target=sleeper); a.start()
    b = threading.Thread(target=sleeper); b.start()
    print(f"{mp.current_process().name}: two threads started", flush=True)
    a.join()
    print("never: main", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    c = mp.Process(target=child); c.start()
    time.sleep(3 * TICK)
    c.kill(); c.join()
    print(f"{c.name} exitcode {c.exitcode}", flush=True)
