# proc-err-start-twice: start() on a started Process raises in the caller (here MainProcess)
import multiprocessing as mp
def work():
    print(f"{mp.current_process().name}: ran once", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    w = mp.Process(target=work)
    w.start()
    print("main: starting it again", flush=True)
    w.start()
    print("main: never printed", flush=True)
