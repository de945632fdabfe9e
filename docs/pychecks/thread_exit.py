# thread-exit: sys.exit in a thread ends that thread only, silently (its message is not
# printed: threading's excepthook ignores SystemExit); the process's exit status is unchanged.
import sys, threading
def quitter(code):
    print(f"{threading.current_thread().name}: exiting", flush=True)
    sys.exit(code)
    print("never", flush=True)
if __name__ == "__main__":
    t = threading.Thread(target=quitter, args=("not printed",)); t.start(); t.join()
    print(f"{t.name} alive={t.is_alive()}", flush=True)
    u = threading.Thread(target=quitter, args=(3,)); u.start(); u.join()
    print("MainThread: exit status stays 0", flush=True)
