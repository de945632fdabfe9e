# the same error raised in a child: exitcode 1
import multiprocessing as mp
def leaf():
    print(f"{mp.current_process().name}: ran once", flush=True)
def work():
    w = mp.Process(target=leaf); w.start(); w.join(); w.start()
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=work); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
