# kill()/terminate() on current_process(), in a child
import multiprocessing as mp
def work():
    mp.current_process().kill()
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=work); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
