# proc-finalizer-text: a finalizer (__del__) prints in the process that drops the object, with
# that process's name and globals, and what the object kept from where it was made (its tag)
import multiprocessing as mp
counter = 0
class Obj:
    def __init__(self, tag): self.tag = tag
    def __del__(self):
        print(f"__del__ {self.tag} in {mp.current_process().name}, counter {counter}", flush=True)
def child():
    global counter, o
    counter += 10
    del o
    print(f"{mp.current_process().name}: dropped", flush=True)
def main(tag):
    global o, counter
    o = Obj(tag)
    w = mp.Process(target=child); w.start(); w.join()
    counter += 1
    del o
    print("MainProcess: dropped", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    main("first")
