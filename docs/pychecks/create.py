# proc-create: Process(target=work1) then start(); nothing runs before start()
import multiprocessing as mp, sys
def work1():
    for i in range(3):
        print(f"work1 step {i} in {mp.current_process().name}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=work1)
    print(f"created {p.name}, exitcode {p.exitcode}, pid {p.pid}", flush=True)
    p.start()
    p.join()
    print(f"joined {p.name}, exitcode {p.exitcode}", flush=True)
