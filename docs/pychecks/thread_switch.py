# thread-switch: the lines the scenario prints. The cost of a switch (kernel.context_switch,
# kernel.thread_switch) is the simulated kernel's and has no CPython counterpart to measure here;
# the scenario derives its figures by hand.
import threading, time
def spin():
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
    print(f"{threading.current_thread().name}: done", flush=True)
if __name__ == "__main__":
    t = threading.Thread(target=spin); t.start()
    t.join()
    print(f"{threading.current_thread().name}: done", flush=True)
