# proc-max-processes: the fork that would exceed the limit fails in the process that tried.
# Root ignores RLIMIT_NPROC, so the script drops to user nobody (65534) first.
# RLIMIT_NPROC counts the user's processes: MainProcess + 2 children = 3 = the limit.
import multiprocessing as mp, os, resource, time
import multiprocessing.popen_fork, multiprocessing.util, traceback  # imported before setuid: the interpreter lives under /root
def work():
    time.sleep(0.5)
    print(f"{mp.current_process().name}: done", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    os.setgid(65534); os.setuid(65534)
    resource.setrlimit(resource.RLIMIT_NPROC, (3, 3))
    ws = []
    for i in range(3):
        w = mp.Process(target=work)
        print(f"MainProcess: created {w.name}", flush=True)
        w.start()
        print(f"MainProcess: started {w.name} pid {w.pid}", flush=True)
        ws.append(w)
    print("never printed", flush=True)
