# proc-os-exit: os._exit(E) ends at once: no __del__, no multiprocessing exit handler (children
# are neither joined nor terminated: they go on as orphans, daemons included)
import multiprocessing as mp, os, time
class Obj:
    def __init__(self, tag): self.tag = tag
    def __del__(self): print(f"__del__ {self.tag} in {mp.current_process().name}", flush=True)
def child():
    o = Obj("child's")
    print(f"{mp.current_process().name}: os._exit(3)", flush=True)
    os._exit(3)
def sleeper(parent):
    time.sleep(0.5)
    print(f"{mp.current_process().name}: orphaned {os.getppid() != parent}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    c = mp.Process(target=child); c.start(); c.join()
    print(f"{c.name} exitcode {c.exitcode}", flush=True)
    s = mp.Process(target=sleeper, args=(os.getpid(),)); s.start()
    d = mp.Process(target=sleeper, args=(os.getpid(),), daemon=True); d.start()
    o = Obj("main's")   # after the forks: no child inherits it
    print("MainProcess: os._exit(0)", flush=True)
    os._exit(0)
