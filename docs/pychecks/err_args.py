# proc-err-args-*: binding errors happen in the child, when it calls its target
import multiprocessing as mp
def work1(a, b, c):
    print(f"a={a} b={b} c={c}", flush=True)
CASES = {
    "missing":    dict(args=(10,), kwargs={"b": 10}),
    "missing2":   dict(args=(10,)),
    "multiple":   dict(args=(10, 20), kwargs={"c": 100, "b": 10}),
    "unexpected": dict(args=(10,), kwargs={"c": 100, "b": 10, "d": 1}),
    "too_many":   dict(args=(10, 20, 30, 40)),
    "too_many_and_multiple": dict(args=(1, 2, 3, 4), kwargs={"b": 5}),
    "too_many_and_unexpected": dict(args=(1, 2, 3, 4), kwargs={"d": 5}),
}
if __name__ == "__main__":
    mp.set_start_method("fork")
    for case, kw in CASES.items():
        p = mp.Process(target=work1, **kw)
        print(f"{case}: created {p.name} without error", flush=True)
        p.start(); p.join()
        print(f"{case}: {p.name} exitcode {p.exitcode}", flush=True)
