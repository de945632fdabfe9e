# proc-err-daemon-child: a daemon process that starts a child
import multiprocessing as mp
def leaf():
    print("leaf: never printed", flush=True)
def daemon_work():
    print(f"{mp.current_process().name}: daemon={mp.current_process().daemon}, starting a child", flush=True)
    c = mp.Process(target=leaf)
    print(f"{mp.current_process().name}: created {c.name} daemon={c.daemon}", flush=True)
    c.start()
    print("never printed", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    d = mp.Process(target=daemon_work, daemon=True); d.start(); d.join()
    print(f"{d.name} exitcode {d.exitcode}", flush=True)
