"""For scale: N multiprocessing children (start method fork) started and joined one after
another. Prints the mean microseconds per child."""
import multiprocessing as mp
import sys
import time


def work():
    pass


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    ctx = mp.get_context("fork")
    t = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=work)
        p.start()
        p.join()
    print(f"{(time.perf_counter() - t) / n * 1e6:.1f}")
