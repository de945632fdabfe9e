# order in which module-level objects of __main__ are finalized at interpreter exit
class Obj:
    def __init__(self, label): self.label = label
    def __del__(self): print(f"__del__ {self.label}", flush=True)
zz = Obj("zz (1st)")
aa = Obj("aa (2nd)")
mm = Obj("mm (3rd)")
