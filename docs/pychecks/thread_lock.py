# thread-lock: a threading.Lock of the process. A thread that acquires it while another holds
# it blocks; a release hands it to the first waiter; any thread may release a held lock;
# releasing an unlocked lock is RuntimeError: release unlocked lock, in that thread.
# One tick is 0.1 s here.
import threading, time
TICK = 0.1
L = threading.Lock()
def name():
    return threading.current_thread().name
def holder():
    L.acquire()
    print(f"{name()}: acquired", flush=True)
    time.sleep(3 * TICK)
    print(f"{name()}: releasing", flush=True)
    L.release()
def waiter(n):
    time.sleep(n * TICK)
    print(f"{name()}: waiting", flush=True)
    L.acquire()
    print(f"{name()}: acquired", flush=True)
    time.sleep(1 * TICK)
    L.release()
def releaser():
    L.release()
    print(f"released by {name()}", flush=True)
if __name__ == "__main__":
    h = threading.Thread(target=holder)
    w1 = threading.Thread(target=waiter, args=(1,))
    w2 = threading.Thread(target=waiter, args=(2,))
    h.start(); w1.start(); w2.start()
    h.join(); w1.join(); w2.join()
    L.acquire()
    r = threading.Thread(target=releaser); r.start(); r.join()
    L.acquire()
    print("MainThread: acquired again", flush=True)
    L.release()
    b = threading.Thread(target=releaser); b.start(); b.join()
    print("MainThread: done", flush=True)
