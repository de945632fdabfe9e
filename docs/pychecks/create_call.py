# proc-create-call: target=work1() calls work1 at once, in the parent; the Process gets target=None
import multiprocessing as mp
def work1():
    for i in range(3):
        print(f"work1 step {i} in {mp.current_process().name}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=work1())
    print(f"created {p.name}", flush=True)
    p.start()
    p.join()
    print(f"joined {p.name}, exitcode {p.exitcode}", flush=True)
