# thread-gil-queue: the line the scenario prints. The scenario's point, which waiting thread gets
# the GIL next on two CPUs when the threads' priorities differ, has no CPython counterpart
# (threading has no per-thread priority); its figures are derived by hand.
import threading, time
def spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
if __name__ == "__main__":
    x = threading.Thread(target=spin, args=(0.6,)); x.start()
    a = threading.Thread(target=spin, args=(0.4,)); a.start()
    b = threading.Thread(target=spin, args=(0.4,)); b.start()
    x.join(); a.join(); b.join()
    print("x, a and b joined", flush=True)
