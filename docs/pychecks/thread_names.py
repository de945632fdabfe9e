# thread-names: MainThread, then Thread-N (target) numbered by threading._counter, which an
# explicit name does not move; a forked child goes on counting from its parent's count.
import multiprocessing as mp, threading
def work():
    print(f"{threading.current_thread().name} in {mp.current_process().name}", flush=True)
def child():
    t = threading.Thread(target=work); t.start(); t.join()
    print(f"{mp.current_process().name}: main thread is {threading.current_thread().name}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    print(f"{threading.current_thread().name} in {mp.current_process().name}", flush=True)
    t1 = threading.Thread(target=work); t1.start(); t1.join()
    t2 = threading.Thread(target=work, name="worker"); t2.start(); t2.join()
    t3 = threading.Thread(target=work); t3.start(); t3.join()
    p = mp.Process(target=child); p.start(); p.join()
    t4 = threading.Thread(target=work); t4.start(); t4.join()
    print(f"names: {t1.name}, {t2.name}, {t3.name}, {t4.name}", flush=True)
