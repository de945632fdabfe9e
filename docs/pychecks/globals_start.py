# proc-globals-start: a child's globals are copied at start() (the fork), not at Process();
# a grandchild gets its parent's copy as it is at that start()
import multiprocessing as mp
g = 0
def grand():
    print(f"{mp.current_process().name}: g={g}", flush=True)
def child():
    global g
    print(f"{mp.current_process().name}: g={g}", flush=True)
    g += 100
    x = mp.Process(target=grand)
    g += 1000
    x.start(); x.join()
    print(f"{mp.current_process().name}: g={g}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    w = mp.Process(target=child)
    g = 1
    w.start()
    g = 2
    w.join()
    print(f"MainProcess: g={g}", flush=True)
