# proc-events-kill-main: `kill -9 PID` of MainProcess from outside (a shell): it runs nothing
# more (no __del__, no exit handler), its daemon child is not terminated, its children go on
# as orphans. This script is the shell: it starts the program below and kills it at 1 s.
import os, signal, subprocess, sys, time
PROGRAM = r'''
import multiprocessing as mp, os, time
class Obj:
    def __del__(self): print("__del__ never printed", flush=True)
def worker(parent):
    time.sleep(2)
    print(f"{mp.current_process().name}: orphaned {os.getppid() != parent}", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    w = mp.Process(target=worker, args=(os.getpid(),)); w.start()
    d = mp.Process(target=worker, args=(os.getpid(),), daemon=True); d.start()
    o = Obj()   # after the forks: no child inherits it
    print("MainProcess: children started", flush=True)
    time.sleep(4)
    print("MainProcess: never printed", flush=True)
'''
p = subprocess.Popen([sys.executable, "-c", PROGRAM], stdout=sys.stdout)
time.sleep(1)
os.kill(p.pid, signal.SIGKILL)
print(f"MainProcess exit status {p.wait()}", flush=True)
time.sleep(3)   # the orphans' lines
