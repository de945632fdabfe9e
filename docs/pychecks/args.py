# proc-args: args fill parameters left to right, then kwargs by name
import multiprocessing as mp
def work1(a, b, c):
    print(f"{mp.current_process().name}: a={a} b={b} c={c}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    for kw in (dict(args=(1, 2, 3)), dict(kwargs={"a": 4, "b": 5, "c": 6}),
               dict(args=(10,), kwargs={"c": 100, "b": 10})):
        p = mp.Process(target=work1, **kw); p.start(); p.join()
        print(f"{p.name} exitcode {p.exitcode}", flush=True)
