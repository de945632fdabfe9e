# thread-child-exit-order: a multiprocessing child ends its children before it waits for its
# threads. BaseProcess._bootstrap runs the target, then (finally) util._exit_function():
# terminate() each live daemon child, join() each live child; only then threading._shutdown()
# waits for the non-daemon threads. (MainProcess does it the other way round: the interpreter's
# shutdown waits for the threads before atexit's _exit_function.) One tick is 0.1 s here;
# Process-1 sleeps a tick before its end so that its daemon child is asleep when terminated.
import multiprocessing as mp, threading, time
TICK = 0.1
d = None
def dchild():
    time.sleep(3 * TICK)
    print("daemon child done", flush=True)
def tw():
    time.sleep(5 * TICK)
    print(f"{threading.current_thread().name}: d.exitcode={d.exitcode}", flush=True)
def pmain():
    global d
    d = mp.Process(target=dchild, daemon=True); d.start()
    threading.Thread(target=tw).start()
    time.sleep(1 * TICK)
if __name__ == "__main__":
    mp.set_start_method("fork")
    p = mp.Process(target=pmain); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}", flush=True)
