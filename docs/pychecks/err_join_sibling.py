# proc-err-join-sibling: a child inherits (through the fork) the Process object of a sibling
# started before it, and joins it
import multiprocessing as mp, time
def sleeper():
    time.sleep(0.5)
    print(f"{mp.current_process().name}: done", flush=True)
def joiner():
    print(f"{mp.current_process().name}: joining {s.name}", flush=True)
    s.join()
    print("never printed", flush=True)
if __name__ == "__main__":
    mp.set_start_method("fork")
    s = mp.Process(target=sleeper); s.start()
    j = mp.Process(target=joiner); j.start()
    j.join(); s.join()
    print(f"{s.name} exitcode {s.exitcode}; {j.name} exitcode {j.exitcode}", flush=True)
