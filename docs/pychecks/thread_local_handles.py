# thread-local-handles: a handle name (`t = threading.Thread(...)`, `p = Process(...)`) is local to
# the function that binds it: two threads running the same function each keep their own `t` and
# `p`, though the second binds them while the first still uses its own; a name the function never
# binds is the module's (here `shared`, bound by the main code).
import threading, time, multiprocessing as mp
TICK = 0.1
def leaf(n):
    time.sleep(n * TICK)
def child():
    pass
def worker(n):
    t = threading.Thread(target=leaf, args=(n,)); t.start()
    p = mp.Process(target=child); p.start()
    time.sleep(3 * TICK)
    t.join(); p.join()
    print(f"{threading.current_thread().name}: my t is {t.name}, my p is {p.name} (exitcode {p.exitcode}); shared is {shared.name}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    shared = threading.Thread(target=leaf, args=(0,), name="shared"); shared.start()
    a = threading.Thread(target=worker, args=(1,)); a.start()
    time.sleep(TICK)
    b = threading.Thread(target=worker, args=(2,)); b.start()
    a.join(); b.join(); shared.join()
    print(f"{threading.current_thread().name}: my a is {a.name}, my b is {b.name}", flush=True)
