# the same with os.fork and the default exit of the parent
import os, time, sys
pid = os.fork()
if pid == 0:
    print(f"child: ppid {os.getppid()} before", flush=True)
    time.sleep(1)
    print(f"child: ppid {os.getppid()} after the parent ended", flush=True)
    os._exit(0)
time.sleep(0.3)
print(f"parent {os.getpid()}: exiting without waiting", flush=True)
