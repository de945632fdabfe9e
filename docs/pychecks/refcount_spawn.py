# the same under the spawn start method (Windows' only method, where the notes were written)
import multiprocessing as mp
class Obj:
    def __init__(self, label): self.label = label
    def __del__(self):
        print(f"__del__ {self.label} in {mp.current_process().name}", flush=True)
def keep(o):
    print(f"{mp.current_process().name}: using {o.label}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("spawn")
    obj = Obj("obj")
    p1 = mp.Process(target=keep, args=(obj,)); p1.start(); p1.join()
    late = Obj("late")
    print(f"MainProcess: child exited {p1.exitcode}", flush=True)
