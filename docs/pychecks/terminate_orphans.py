# proc-terminate-orphans: a process ended by terminate() (SIGTERM, no handler) runs no exit
# handler: its daemon child is not terminated and its other child is not joined; both are
# orphaned and go on (a new parent), and the terminated process's exitcode is -15.
# One tick is 0.1 s.
import multiprocessing as mp, os, time
TICK = 0.1
def grand(parent):
    time.sleep(10 * TICK)
    me = mp.current_process()
    print(f"{me.name} daemon={me.daemon}: orphaned {os.getppid() != parent}", flush=True)
def mid():
    me = os.getpid()
    mp.Process(target=grand, args=(me,), daemon=True).start()
    mp.Process(target=grand, args=(me,)).start()
    print("Process-1: children started", flush=True)
    time.sleep(20 * TICK)
    print("Process-1: never printed", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    m = mp.Process(target=mid); m.start()
    time.sleep(3 * TICK)
    m.terminate(); m.join()
    print(f"{m.name} exitcode {m.exitcode}", flush=True)
    time.sleep(15 * TICK)   # the orphans print meanwhile
