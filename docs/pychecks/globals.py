# proc-globals: each process has its own copy of the globals, copied at start() (the fork)
import multiprocessing as mp
g_list = []
counter = 0
marker = "initial"
def add_data():
    global counter
    for i in range(3):
        g_list.append(i)
        counter += 1
    print(f"{mp.current_process().name}: g_list={g_list} counter={counter}", flush=True)
def read_data():
    global counter
    counter += 1
    print(f"{mp.current_process().name}: g_list={g_list} counter={counter} marker={marker}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    w1 = mp.Process(target=add_data); w1.start(); w1.join()
    print(f"MainProcess after {w1.name}: g_list={g_list} counter={counter}", flush=True)
    w2 = mp.Process(target=read_data)       # created now ...
    marker = "set after Process() but before start()"
    w2.start(); w2.join()                   # ... copied now
    print(f"MainProcess at the end: g_list={g_list} counter={counter} marker={marker}", flush=True)
