# proc-values-repr: values print as Python's str() and repr() print them; += on a bool
import multiprocessing as mp
g_list = ['bell\x07', 'tab\t', "it's", 'nl\n', 'cr\r', 'back\\slash', 'del\x7f', 'nbsp\xa0', 'é中', True, None, 3]
flag = True
def work():
    global flag, g_list
    flag += 1
    print(f"{mp.current_process().name}: flag {flag}", flush=True)
    g_list.append(False)
    print(f"{mp.current_process().name}: {g_list}", flush=True)
    flag = True
    flag += "a"
if __name__ == "__main__":
    mp.set_start_method("fork")
    print(f"list {g_list}", flush=True)
    print(f"bool {flag}", flush=True)
    p = mp.Process(target=work); p.start(); p.join()
    print(f"{p.name} exitcode {p.exitcode}; flag {flag}", flush=True)
