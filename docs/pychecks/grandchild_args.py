# proc-grandchild-args: a grandchild's binding errors are its own (exit 1 in the grandchild);
# the child that made it goes on and sees exitcode 1
import multiprocessing as mp
def leaf(a, b):
    print(f"{mp.current_process().name}: a={a} b={b}", flush=True)
def mid():
    me = mp.current_process().name
    for args, kwargs in [((1,), {"a": 2}), ((1, 2, 3), {}), ((1,), {"b": 2})]:
        g = mp.Process(target=leaf, args=args, kwargs=kwargs); g.start(); g.join()
        print(f"{me}: {g.name} exitcode {g.exitcode}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=mid); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
