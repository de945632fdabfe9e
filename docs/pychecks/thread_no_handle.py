# thread-no-handle: `threading.Thread(target=f).start()` and `Process(target=f).start()` need no
# name: nothing can join them by name, but the end of the process still waits for a non-daemon
# thread (threading._shutdown) and joins a child (multiprocessing's exit handler); a daemon
# thread still running then is cut short.
import threading, time, multiprocessing as mp
TICK = 0.2
def work(n):
    time.sleep(n * TICK)
    print(f"{threading.current_thread().name}: done after {n}", flush=True)
def child():
    time.sleep(3 * TICK)
    print(f"{mp.current_process().name}: done", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    threading.Thread(target=work, args=(2,)).start()
    threading.Thread(target=work, args=(5,), daemon=True).start()
    mp.Process(target=child).start()
    print(f"{threading.current_thread().name}: started two threads and a process, none named", flush=True)
