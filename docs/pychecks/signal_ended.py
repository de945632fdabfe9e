# proc-signal-ended: terminate() and kill() of a process that has ended send nothing and
# raise nothing (Popen._send_signal: no signal once the return code is known; a zombie not
# yet polled gets os.kill, which changes nothing); exitcode stays 0. A shell's kill of a pid
# that no longer exists finds nobody (ProcessLookupError), which the scenario's outside
# signals stand for.
import multiprocessing as mp, os, signal, time
def short():
    print(f"{mp.current_process().name}: done", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    a = mp.Process(target=short); a.start(); a.join()
    a.terminate(); a.kill()
    print(f"after terminate() and kill() of an ended {a.name}: exitcode={a.exitcode}", flush=True)
    b = mp.Process(target=short); b.start()
    time.sleep(0.5)                      # b is a zombie now
    b.terminate()
    b.join()
    print(f"{b.name} exitcode={b.exitcode}", flush=True)
    try:
        os.kill(a.pid, signal.SIGKILL)   # the shell's kill -9 of the ended Process-1
    except ProcessLookupError:
        print("kill -9 of the ended Process-1: No such process", flush=True)
