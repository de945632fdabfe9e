# proc-names: MainProcess, Process-1, Process-1:1, an explicit name, and the counter going on
import multiprocessing as mp, os
def show():
    p = mp.current_process()
    print(f"{p.name} {os.getpid()} {os.getppid()}", flush=True)
def work():
    show()
    c = mp.Process(target=show); c.start(); c.join()
    print(f"{mp.current_process().name} made {c.name} pid {c.pid}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    show()
    p1 = mp.Process(target=work); p1.start(); p1.join()
    p2 = mp.Process(target=show, name="worker"); p2.start(); p2.join()
    p3 = mp.Process(target=show); p3.start(); p3.join()
    for p in (p1, p2, p3):
        print(f"MainProcess made {p.name} pid {p.pid}", flush=True)
