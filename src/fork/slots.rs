//! `kernel.max_processes` on real processes. `RLIMIT_NPROC` does nothing for root, so the
//! supervisor maps one shared counter before it forks anything; every process of the run
//! inherits the mapping. A slot is taken at `spawn` (where the simulated kernel allocates the
//! pid) and given back when the process is reaped or discarded unstarted.
//!
//! A thread is a task too (SPEC §4a): it takes a slot when it is started, and the supervisor
//! gives it back when it sees the thread's end, or its process's end for threads still alive
//! then ([`ThreadSlots`]): a thread killed with its process cannot give its own back.
//!
//! A known difference from the model, where a killed process's tasks free their slots at the
//! kill: here its threads' slots come back when the supervisor reads the process's end, which
//! can come a little after its parent reaped it; a `start` made at once after that reap, with
//! the limit reached, can find them still taken ("can't start new thread" or the fork's error).

use std::io;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

/// The threads alive of each process, as the supervisor sees their events: how many slots
/// to give back when one ends, or when its process does.
#[derive(Debug, Default)]
pub struct ThreadSlots {
    live: std::collections::HashMap<super::protocol::Key, u32>,
}

impl ThreadSlots {
    /// Follows `e`; the slots it frees.
    pub fn note(&mut self, e: &super::protocol::Event) -> u32 {
        use super::protocol::Event;
        match e {
            Event::Thread { key, .. } => {
                *self.live.entry(key.clone()).or_default() += 1;
                0
            }
            Event::ThreadEnd { key, .. } => match self.live.get_mut(key) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    1
                }
                _ => 0,
            },
            Event::End { key, .. } | Event::Reaped { key: Some(key), .. } => {
                self.live.remove(key).unwrap_or(0)
            }
            _ => 0,
        }
    }
}

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

#[cfg(test)]
mod thread_tests {
    use super::*;
    use crate::fork::protocol::Event;

    #[test]
    fn a_threads_slot_comes_back_once_at_its_end_or_its_processs() {
        let mut t = ThreadSlots::default();
        let thread = |k: u32| Event::Thread {
            key: "0".into(),
            thread: k,
            name: String::new(),
            daemon: false,
            t: 0,
        };
        assert_eq!(t.note(&thread(0)), 0);
        assert_eq!(t.note(&thread(1)), 0);
        let end = Event::ThreadEnd {
            key: "0".into(),
            thread: 0,
            t: 1,
            figures: None,
        };
        assert_eq!(t.note(&end), 1);
        let reaped = Event::Reaped {
            key: Some("0".into()),
            pid: 2,
            t: 2,
            by_init: true,
            status: crate::fork::protocol::Status::Signaled(9),
            figures: None,
        };
        // Thread 1 was alive when its process was killed.
        assert_eq!(t.note(&reaped), 1);
        assert_eq!(t.note(&reaped), 0);
    }
}
