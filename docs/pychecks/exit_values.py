# proc-exit-values: what sys.exit(E) gives, per value (SPEC §4 `exit`)
import multiprocessing as mp, sys
VALUES = [True, False, None, "bye", 3, 259, -1, [1, 'a']]
def leaf(v):
    print(f"{mp.current_process().name}: exit {v}", flush=True)
    sys.exit(v)
if __name__ == "__main__":
    mp.set_start_method("fork")
    for v in VALUES:
        p = mp.Process(target=leaf, args=(v,)); p.start(); p.join()
        print(f"{p.name} exitcode {p.exitcode}", flush=True)
    sys.exit(True)
