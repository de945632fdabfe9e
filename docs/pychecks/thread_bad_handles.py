# thread-err-kill / thread-err-join-self: a Thread has no kill() (AttributeError, in the
# thread that calls it); a thread cannot join itself (RuntimeError, in that thread).
import sys, threading, time
TICK = 0.1
def selfjoin():
    print(f"{threading.current_thread().name}: joining myself", flush=True)
    threading.current_thread().join()
def sleeper():
    time.sleep(2 * TICK)
    print(f"{threading.current_thread().name}: done", flush=True)
if __name__ == "__main__":
    case = sys.argv[1] if len(sys.argv) > 1 else "join-self"
    if case == "join-self":
        t = threading.Thread(target=selfjoin); t.start(); t.join()
        print(f"{t.name} alive={t.is_alive()}", flush=True)
    else:
        t = threading.Thread(target=sleeper); t.start()
        print(f"MainThread: kill {t.name}", flush=True)
        t.kill()
