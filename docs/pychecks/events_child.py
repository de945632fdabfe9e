# proc-events-child: signals from outside to children: SIGTERM to Process-2 (-15), SIGKILL to
# Process-1, whose own child Process-1:1 goes on as an orphan; a signal to a process that has
# ended does nothing. os.kill from MainProcess stands for the shell here: the kernel does not
# care who sends a signal (SIGTERM at 0.3 s, SIGKILL at 0.6 s).
import multiprocessing as mp, os, signal, subprocess, time
def grand(parent):
    time.sleep(1)
    print(f"{mp.current_process().name}: orphaned {os.getppid() != parent}", flush=True)
def mid():
    g = mp.Process(target=grand, args=(os.getpid(),)); g.start()
    time.sleep(2)
    print("Process-1: never printed", flush=True)
def sleeper():
    time.sleep(2)
    print("Process-2: never printed", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    m = mp.Process(target=mid); m.start()
    s = mp.Process(target=sleeper); s.start()
    time.sleep(0.3)
    os.kill(s.pid, signal.SIGTERM)          # the shell's `kill PID`
    time.sleep(0.3)
    os.kill(m.pid, signal.SIGKILL)          # the shell's `kill -9 PID`
    m.join(); s.join()
    print(f"{m.name} exitcode {m.exitcode}, {s.name} exitcode {s.exitcode}", flush=True)
    try:
        os.kill(s.pid, signal.SIGKILL)      # reaped: no such process, nothing happens to anyone
    except ProcessLookupError:
        pass
    time.sleep(1)
