# proc-kill9: the parent SIGKILLs a child that holds an object with a finalizer
import multiprocessing as mp, time, os, signal
class Res:
    def __del__(self):
        print(f"__del__ of res in {mp.current_process().name}", flush=True)
def work():
    res = Res()
    print("child: holding res, sleeping", flush=True)
    time.sleep(10)
    print("child: woke up (never printed)", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=work); p.start()
    time.sleep(0.5)
    p.kill()            # same as kill -9 <pid>
    p.join()
    print(f"{p.name} exitcode {p.exitcode} (signal {signal.Signals(-p.exitcode).name})", flush=True)
    # and with the shell's kill -9 on another child
    q = mp.Process(target=work); q.start(); time.sleep(0.5)
    os.system(f"kill -9 {q.pid}")
    q.join()
    print(f"{q.name} exitcode {q.exitcode}", flush=True)
