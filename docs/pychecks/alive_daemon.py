# proc-alive-daemon: is_alive() ({h.alive}) and .daemon ({h.daemon}) of a Process and of oneself
import multiprocessing as mp, time
def leaf():
    me = mp.current_process()
    print(f"{me.name}: self alive {me.is_alive()} daemon {me.daemon}", flush=True)
    time.sleep(0.4)
if __name__ == "__main__":
    mp.set_start_method("fork")
    w = mp.Process(target=leaf)
    d = mp.Process(target=leaf, daemon=True)
    print(f"before start: {w.name} alive {w.is_alive()} daemon {w.daemon}; {d.name} alive {d.is_alive()} daemon {d.daemon}", flush=True)
    w.start(); d.start()
    print(f"started: {w.name} alive {w.is_alive()}; {d.name} alive {d.is_alive()}", flush=True)
    me = mp.current_process()
    print(f"{me.name}: self alive {me.is_alive()} daemon {me.daemon}", flush=True)
    w.join(); d.join()
    print(f"joined: {w.name} alive {w.is_alive()} exitcode {w.exitcode}; {d.name} alive {d.is_alive()}", flush=True)
