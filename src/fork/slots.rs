//! `kernel.max_processes` on real processes. `RLIMIT_NPROC` does nothing for root, so the
//! supervisor maps one shared counter before it forks anything; every process of the run
//! inherits the mapping. A slot is taken at `spawn` (where the simulated kernel allocates the
//! pid) and given back when the process is reaped or discarded unstarted.

use std::io;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

/// The shared count of live processes (created and not yet reaped) and its limit.
#[derive(Clone, Copy)]
pub struct Slots {
    count: NonNull<AtomicU32>,
    max: u32,
}

impl Slots {
    /// A counter at zero, shared with every process forked after this.
    pub fn new(max: u32) -> io::Result<Slots> {
        let len = NonZeroUsize::new(4096).ok_or_else(|| io::Error::other("page size"))?;
        // SAFETY: a fresh anonymous mapping, never unmapped: it lives as long as the process.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(super::observe::io_err)?;
        Ok(Slots {
            count: ptr.cast(),
            max,
        })
    }

    fn counter(&self) -> &AtomicU32 {
        // SAFETY: the mapping is page-aligned, zero-filled (a valid AtomicU32) and never
        // unmapped; atomics make concurrent use from several processes sound.
        unsafe { self.count.as_ref() }
    }

    /// The count of refused takes, the next word of the same page.
    fn refusals(&self) -> &AtomicU32 {
        // SAFETY: as `counter`; the page holds 1,024 aligned words and this is the second.
        unsafe { self.count.add(1).as_ref() }
    }

    /// Takes a slot unless `max` are taken (a refusal is counted).
    pub fn take(&self) -> bool {
        let ok = self
            .counter()
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        if !ok {
            self.refusals().fetch_add(1, Ordering::AcqRel);
        }
        ok
    }

    /// Takes refused so far (the supervisor reports them when the cap is the host's fence).
    pub fn refused(&self) -> u32 {
        self.refusals().load(Ordering::Acquire)
    }

    /// The limit.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// Gives `n` slots back.
    pub fn give_back(&self, n: u32) {
        let _ = self
            .counter()
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                Some(c.saturating_sub(n))
            });
    }

    /// Slots taken now.
    pub fn taken(&self) -> u32 {
        self.counter().load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_stop_at_the_limit() {
        let s = Slots::new(2).unwrap();
        assert!(s.take() && s.take());
        assert!(!s.take());
        assert_eq!(s.refused(), 1);
        s.give_back(1);
        assert_eq!(s.taken(), 1);
        assert!(s.take());
    }
}
