# thread-fork: a process forked from a thread has one thread, a copy of the caller (its
# name), and a copy of the globals as they were at the fork; it goes on counting thread names.
import multiprocessing as mp, threading
counter = 0
def work():
    print(f"{threading.current_thread().name} in {mp.current_process().name}", flush=True)
def child():
    print(f"{mp.current_process().name}: thread {threading.current_thread().name}, counter={counter}", flush=True)
    x = threading.Thread(target=work); x.start(); x.join()
def forker():
    global counter
    counter += 1
    p = mp.Process(target=child); p.start()
    counter += 10
    p.join()
    print(f"{threading.current_thread().name}: {p.name} exitcode {p.exitcode}, counter={counter}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    t = threading.Thread(target=forker); t.start(); t.join()
    print(f"MainThread: counter={counter}", flush=True)
