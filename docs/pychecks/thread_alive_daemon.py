# thread-alive-daemon: is_alive() and daemon of thread handles; a thread's daemon flag
# defaults to its creator's (a daemon thread's threads are daemons; MainThread's are not).
import threading, time
TICK = 0.1
def inner():
    time.sleep(2 * TICK)
def outer():
    t = threading.Thread(target=inner); t.start()
    print(f"{threading.current_thread().name}: its {t.name} daemon={t.daemon}", flush=True)
    t.join()
if __name__ == "__main__":
    d = threading.Thread(target=outer, daemon=True); d.start()
    time.sleep(1 * TICK)
    print(f"{d.name} alive={d.is_alive()} daemon={d.daemon}", flush=True)
    n = threading.Thread(target=inner); n.start()
    print(f"{n.name} daemon={n.daemon}", flush=True)
    d.join(); n.join()
    print(f"{d.name} alive={d.is_alive()}", flush=True)
