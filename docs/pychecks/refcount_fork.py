# proc-refcount, fork: a module-level object is inherited by the children.
# Process-1 keeps its reference to the end; Process-2 releases it with del.
import multiprocessing as mp
class Obj:
    def __init__(self, label): self.label = label
    def __del__(self):
        print(f"__del__ {self.label} in {mp.current_process().name}", flush=True)
def keep():
    print(f"{mp.current_process().name}: using {obj.label}", flush=True)
def release():
    global obj
    print(f"{mp.current_process().name}: using {obj.label}", flush=True)
    del obj
    print(f"{mp.current_process().name}: after del", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    obj = Obj("obj")
    p1 = mp.Process(target=keep); p1.start(); p1.join()
    p2 = mp.Process(target=release); p2.start(); p2.join()
    late = Obj("late")
    print(f"MainProcess: children exited {p1.exitcode} {p2.exitcode}", flush=True)
