# proc-repeat-as: a repeat's count (`"as": "i"`) is `for i in range(n)`; passed to children
import multiprocessing as mp
def work(i):
    for j in range(2):
        print(f"{mp.current_process().name}: i={i} j={j}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    for i in range(3):
        p = mp.Process(target=work, args=(i,)); p.start(); p.join()
        print(f"MainProcess: joined {p.name} for i={i}", flush=True)
