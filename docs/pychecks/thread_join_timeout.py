# thread-join-timeout: Thread.join(timeout) returns with the thread alive; join(0) returns at
# once; a plain join waits. One tick is 0.1 s here.
import threading, time
TICK = 0.1
def slow():
    time.sleep(10 * TICK)
    print(f"{threading.current_thread().name}: done", flush=True)
if __name__ == "__main__":
    t = threading.Thread(target=slow); t.start()
    t.join(3 * TICK)
    print(f"after join(3): {t.name} alive={t.is_alive()}", flush=True)
    t.join(0)
    print(f"after join(0): alive={t.is_alive()}", flush=True)
    t.join()
    print(f"joined: alive={t.is_alive()}", flush=True)
