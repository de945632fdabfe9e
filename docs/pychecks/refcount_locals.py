# order of finalizers when a function's locals go (the child's target returning), and on error
import multiprocessing as mp
class Obj:
    def __init__(self, label): self.label = label
    def __del__(self):
        print(f"__del__ {self.label} in {mp.current_process().name}", flush=True)
def work(fail):
    first = Obj("first")
    second = Obj("second")
    print(f"{mp.current_process().name}: returning", flush=True)
    if fail:
        raise RuntimeError("boom")
if __name__ == "__main__":
    mp.set_start_method("fork")
    for fail in (False, True):
        p = mp.Process(target=work, args=(fail,)); p.start(); p.join()
        print(f"{p.name} exitcode {p.exitcode}", flush=True)
