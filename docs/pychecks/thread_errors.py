# thread-errors: an error in a thread (argument binding, or raised) ends that thread; its
# message goes to the process's stderr ("Exception in thread ...", then the traceback); the
# process goes on and its exit status is unchanged (0).
import threading
def work(a, b):
    print(f"a={a} b={b}", flush=True)
def boom():
    raise RuntimeError("boom")
if __name__ == "__main__":
    t = threading.Thread(target=work, args=(1,)); t.start(); t.join()
    print(f"{t.name} ended, alive={t.is_alive()}", flush=True)
    u = threading.Thread(target=work, args=(1, 2, 3)); u.start(); u.join()
    v = threading.Thread(target=boom); v.start(); v.join()
    w = threading.Thread(target=work, args=(1,), kwargs={"b": 2}); w.start(); w.join()
    print("MainThread goes on", flush=True)
