# thread-globals: threads of one process share its globals and objects (no copy): each sees
# the other's `+=`, and an object the main thread made is dropped (finalized) in the thread
# that drops it; a child forked by multiprocessing gets a copy that the parent never sees.
# One tick is 0.1 s here.
import multiprocessing as mp, threading, time
TICK = 0.1
counter = 0
held = {}
class Obj:
    def __init__(self, label): self.label = label
    def __del__(self):
        print(f"__del__ {self.label} in {threading.current_thread().name} of {mp.current_process().name}", flush=True)
def work(n):
    global counter
    time.sleep(n * TICK)
    counter += 1
    print(f"{threading.current_thread().name}: counter={counter}", flush=True)
def dropper():
    print(f"{threading.current_thread().name}: dropping", flush=True)
    del held["o"]
def child():
    global counter
    counter += 100
    print(f"{mp.current_process().name}: counter={counter}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    a = threading.Thread(target=work, args=(1,)); a.start()
    b = threading.Thread(target=work, args=(2,)); b.start()
    a.join(); b.join()
    print(f"MainThread: counter={counter}", flush=True)
    p = mp.Process(target=child); p.start(); p.join()
    print(f"after {p.name}: counter={counter}", flush=True)
    held["o"] = Obj("o")
    d = threading.Thread(target=dropper); d.start(); d.join()
    print("MainThread: done", flush=True)
