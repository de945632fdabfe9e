//! Pid allocation as Linux does it: count up, wrap at `pid_max`, skip pids still in use.

/// The pids in use (live processes and zombies) and where the next search starts.
#[derive(Debug, Clone)]
pub(crate) struct Pids {
    used: Vec<u64>,
    next: u32,
    max: u32,
    in_use: u32,
}

/// The first pid handed out; pid 1 is init.
pub(crate) const FIRST_PID: u32 = 2;

impl Pids {
    /// Pids `2 .. pid_max`.
    pub(crate) fn new(pid_max: u32) -> Self {
        Pids {
            used: vec![0; pid_max as usize / 64 + 1],
            next: FIRST_PID,
            max: pid_max,
            in_use: 0,
        }
    }

    fn is_used(&self, pid: u32) -> bool {
        self.used[pid as usize / 64] & (1 << (pid % 64)) != 0
    }

    /// The next free pid after the last one handed out, wrapping; `None` when all are in use.
    pub(crate) fn alloc(&mut self) -> Option<u32> {
        let range = self.max - FIRST_PID;
        if self.in_use >= range {
            return None;
        }
        let mut pid = self.next;
        loop {
            if pid >= self.max {
                pid = FIRST_PID;
            }
            if !self.is_used(pid) {
                self.used[pid as usize / 64] |= 1 << (pid % 64);
                self.in_use += 1;
                self.next = pid + 1;
                return Some(pid);
            }
            pid += 1;
        }
    }

    /// Gives a pid back when its process is reaped.
    pub(crate) fn free(&mut self, pid: u32) {
        debug_assert!(self.is_used(pid));
        self.used[pid as usize / 64] &= !(1 << (pid % 64));
        self.in_use -= 1;
    }

    /// Pids in use.
    pub(crate) fn in_use(&self) -> u32 {
        self.in_use
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_skips_live_pids() {
        let mut p = Pids::new(6); // pids 2..=5
        assert_eq!(
            [p.alloc(), p.alloc(), p.alloc()],
            [Some(2), Some(3), Some(4)]
        );
        p.free(3);
        assert_eq!(p.alloc(), Some(5));
        assert_eq!(p.alloc(), Some(3), "wraps to 2, skips the live 2");
        assert_eq!(p.alloc(), None);
        p.free(2);
        assert_eq!(p.alloc(), Some(2));
        assert_eq!(p.in_use(), 4);
    }
}
