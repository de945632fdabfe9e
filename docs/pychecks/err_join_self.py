# proc-err-join-self: current_process().join(), in the main process and in a child
import multiprocessing as mp
def work():
    print(f"{mp.current_process().name}: joining myself", flush=True)
    mp.current_process().join()
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=work); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
    print("MainProcess: joining myself", flush=True)
    mp.current_process().join()
