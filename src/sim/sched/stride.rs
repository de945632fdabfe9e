//! Stride scheduling (SPEC §3a; Waldspurger and Weihl, MIT/LCS/TM-528, 1995; OSTEP ch. 9):
//! each process has a stride, `big / tickets`, and a pass; the ready process with the least
//! pass runs for one quantum, and its pass grows by its stride for every quantum it runs.
//!
//! Choices where the SPEC is silent:
//! - The stride is the integer quotient `big / tickets`, as in OSTEP's table (10000 / 250 =
//!   40); with more tickets than `big` it would be 0 and the process would never pay for the
//!   CPU, so it is at least 1.
//! - Pro rata: a process that runs `ran` ticks of a quantum `q` adds `stride × ran / q`. To
//!   stay exact in integers the pass is kept scaled by the quantum: `pass_scaled += stride ×
//!   ran`, in 128 bits (a run of 2^64 ticks at a stride of 2^64 still fits).
//! - A process that becomes ready by `admit` or `wake` takes `max(own pass, least pass of the
//!   other ready or running processes)`, so that time spent blocked (or not yet born) is not
//!   credit; a new process starts at pass 0 and so at that least pass. A running process
//!   counts with the pass it had when it was dispatched (what it has run since is charged when
//!   it leaves the CPU). A process whose slice ran out (or that was preempted) at the same tick
//!   counts with its charged pass even if the same-tick order enqueues it after the wake-up.
//!   With nothing else ready or running, a process keeps its own pass. A process back from a
//!   slice end or a preemption keeps its own pass.
//! - Ties between equal passes go to the lowest pid (`Attrs::pid`), then the lowest process
//!   index (pids are unique among live processes, so this last one never decides).

use super::keyed::KeyedHeap;
use super::{Attrs, Leave, Policy, Ready, SeededRng, Usage};

/// A pass scaled by the quantum, with its tie-breakers: (pass × quantum, pid, process index).
type Key = (u128, u32, u32);

/// What stride scheduling keeps of a process, in one record (one cache line holds two), so
/// that a charge and a key read one place rather than three tables.
#[derive(Debug, Clone, Copy)]
struct Proc {
    /// Its pass × quantum.
    pass: u128,
    /// Its stride.
    stride: u64,
    /// Its pid.
    pid: u32,
}

/// Stride scheduling.
#[derive(Debug, Clone)]
pub struct Stride {
    big: u64,
    quantum: u64,
    /// Per process, by index.
    procs: Vec<Proc>,
    /// Ready processes by key.
    ready: KeyedHeap<Key>,
    /// Processes picked and not yet back in `ready` (running, in a context switch, or off
    /// their CPU at a slice end or preemption and not yet enqueued), by the key they had when
    /// picked or charged: the least pass of "the others" includes them.
    running: Picked,
}

/// The processes picked and not yet back in the ready heap, by key: one of them held apart
/// from a heap of the others. On one CPU there is at most one, and a heap's push and pop
/// at every pick, charge and enqueue were a third of stride's instructions under RR-IO-v1
/// (callgrind; BENCHMARKS.md); on several CPUs the others go to the heap, so that every
/// operation stays O(log n). The least key is the lesser of the lone one's and the heap's.
#[derive(Debug, Clone, Default)]
struct Picked {
    lone: Option<(Key, u32)>,
    more: KeyedHeap<Key>,
}

impl Picked {
    fn is_lone(&self, p: u32) -> bool {
        matches!(self.lone, Some((_, q)) if q == p)
    }

    fn contains(&self, p: u32) -> bool {
        self.is_lone(p) || self.more.contains(p)
    }

    /// Adds `p` with `key`, or changes its key if it is held.
    fn push(&mut self, p: u32, key: Key) {
        if self.contains(p) {
            self.update(p, key);
        } else if self.lone.is_none() {
            self.lone = Some((key, p));
        } else {
            self.more.push(p, key);
        }
    }

    /// Changes the key of `p` if it is held.
    fn update(&mut self, p: u32, key: Key) {
        match &mut self.lone {
            Some((k, q)) if *q == p => *k = key,
            _ => self.more.update(p, key),
        }
    }

    fn remove(&mut self, p: u32) {
        if self.is_lone(p) {
            self.lone = None;
        } else {
            self.more.remove(p);
        }
    }

    /// The least key's pass.
    fn least_pass(&self) -> Option<u128> {
        let lone = self.lone.map(|(k, _)| k.0);
        let more = self.more.peek().map(|(k, _)| k.0);
        match (lone, more) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        usize::from(self.lone.is_some()) + self.more.len()
    }
}

impl Stride {
    /// Stride scheduling with this `big` (at least 1) and quantum (at least 1).
    pub fn new(big: u64, quantum: u64) -> Self {
        Stride {
            big,
            quantum: quantum.max(1),
            procs: Vec::new(),
            ready: KeyedHeap::default(),
            running: Picked::default(),
        }
    }

    fn grow_for(&mut self, p: u32) {
        let need = p as usize + 1;
        if self.procs.len() < need {
            let fill = Proc {
                pass: 0,
                stride: self.stride_for(Attrs::default().tickets),
                pid: 0,
            };
            self.procs.resize(need, fill);
        }
    }

    fn stride_for(&self, tickets: u64) -> u64 {
        (self.big / tickets.max(1)).max(1)
    }

    fn key(&self, p: u32) -> Key {
        let pr = &self.procs[p as usize];
        (pr.pass, pr.pid, p)
    }

    /// The least scaled pass of the ready and running processes.
    fn least_pass(&self) -> Option<u128> {
        let r = self.ready.peek().map(|(k, _)| k.0);
        let q = self.running.least_pass();
        match (r, q) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The pass of `p` scaled by the quantum.
    #[cfg(test)]
    fn pass_scaled(&self, p: u32) -> u128 {
        self.procs[p as usize].pass
    }
}

impl Policy for Stride {
    fn name(&self) -> &'static str {
        "stride"
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        self.grow_for(p);
        self.procs[p as usize] = Proc {
            pass: 0,
            stride: self.stride_for(attrs.tickets),
            pid: attrs.pid,
        };
    }

    fn enqueue(&mut self, p: u32, why: Ready, _burst: u64, _now: u64) {
        self.grow_for(p);
        self.running.remove(p);
        if matches!(why, Ready::Admit | Ready::Wake)
            && let Some(least) = self.least_pass()
        {
            let own = &mut self.procs[p as usize].pass;
            *own = (*own).max(least);
        }
        self.ready.push(p, self.key(p));
    }

    fn pick(&mut self, _now: u64, _rng: &mut SeededRng) -> Option<u32> {
        let (key, p) = self.ready.pop()?;
        self.running.push(p, key);
        Some(p)
    }

    fn rule(&self) -> &'static str {
        "stride takes the least pass (ties: the lowest pid); a slice adds big / tickets to the pass"
    }

    fn peek(&mut self, _now: u64) -> Option<u32> {
        self.ready.peek().map(|(_, p)| p)
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        let Proc { pass, stride, .. } = *self.procs.get(p as usize)?;
        Some(format!(
            "pass {}, stride {stride}",
            super::fixed(pass as i128, i128::from(self.quantum))
        ))
    }

    fn key(&self, p: u32, _ran: u64, _now: u64) -> Option<super::Key> {
        let pass = self.procs.get(p as usize)?.pass;
        Some(super::Key {
            what: "pass",
            best: "least",
            value: pass as i128,
            scale: i128::from(self.quantum),
            higher_first: false,
            tie: "the lowest pid",
        })
    }

    fn slice_end_reason(&self) -> Option<&'static str> {
        Some("its stride added for the slice")
    }

    fn remove(&mut self, p: u32) -> bool {
        self.ready.remove(p).is_some()
    }

    fn len(&self) -> usize {
        self.ready.len()
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        self.quantum
    }

    fn charge(&mut self, p: u32, why: Leave, usage: Usage, _now: u64) {
        if let Some(pr) = self.procs.get_mut(p as usize) {
            pr.pass = pr
                .pass
                .saturating_add(pr.stride as u128 * usage.ran as u128);
        }
        if why == Leave::Block || why == Leave::Exit {
            self.running.remove(p);
        } else if self.running.contains(p) {
            // Off its CPU but still runnable: it counts among "the others" with its new pass
            // until it is enqueued, which the same-tick order may put after a wake-up.
            self.running.update(p, self.key(p));
        }
    }

    fn on_exit(&mut self, p: u32) {
        self.running.remove(p);
        self.ready.remove(p);
    }

    fn upcoming(&self, k: usize) -> Option<u32> {
        (k == 0)
            .then(|| self.ready.peek().map(|(_, p)| p))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stride(big: u64, q: u64, tickets: &[u64]) -> Stride {
        let mut s = Stride::new(big, q);
        for (p, &tickets) in tickets.iter().enumerate() {
            s.on_create(
                p as u32,
                Attrs {
                    tickets,
                    pid: p as u32 + 2,
                    ..Attrs::default()
                },
            );
        }
        s
    }

    /// Runs `p` for `ran` ticks and puts it back.
    fn run(s: &mut Stride, p: u32, ran: u64, why: Leave) {
        s.charge(p, why, Usage { ran, slice_left: 0 }, 0);
    }

    #[test]
    fn ostep_table() {
        // OSTEP ch. 9, figure 9.3: A 100, B 50, C 250 tickets, strides 100, 200, 40.
        let mut s = stride(10_000, 1, &[100, 50, 250]);
        let mut g = SeededRng::new(0);
        assert_eq!(
            s.procs.iter().map(|pr| pr.stride).collect::<Vec<_>>(),
            [100, 200, 40]
        );
        for p in 0..3 {
            s.enqueue(p, Ready::Admit, 0, 0);
        }
        let mut order = String::new();
        for _ in 0..8 {
            let p = s.pick(0, &mut g).unwrap();
            order.push(b"ABC"[p as usize] as char);
            run(&mut s, p, 1, Leave::SliceEnd);
            s.enqueue(p, Ready::SliceEnd, 0, 0);
        }
        assert_eq!(order, "ABCCCACC");
        assert_eq!([0, 1, 2].map(|p| s.pass_scaled(p)), [200, 200, 200]);
    }

    #[test]
    fn a_slice_end_at_the_same_tick_counts_before_it_is_enqueued() {
        // The same-tick order puts wake-ups before slice ends: the waking process must still
        // see the pass just charged to the process whose slice ended.
        let mut s = stride(100, 1, &[100, 100]);
        let mut g = SeededRng::new(0);
        s.enqueue(1, Ready::Admit, 0, 0);
        assert_eq!(s.pick(0, &mut g), Some(1));
        run(&mut s, 1, 10, Leave::SliceEnd);
        s.enqueue(0, Ready::Wake, 0, 10);
        assert_eq!(s.pass_scaled(0), 10);
        s.enqueue(1, Ready::SliceEnd, 0, 10);
        // Equal passes, the lower pid first.
        assert_eq!(s.pick(10, &mut g), Some(0));
        // A process that blocked is not among the others.
        run(&mut s, 0, 0, Leave::Block);
        assert_eq!(s.running.len(), 0);
    }

    /// The lone entry and the heap behind it agree with a plain list of the picked, over
    /// pushes, key changes and removals of up to five processes (several CPUs).
    #[test]
    fn picked_agrees_with_a_list() {
        let mut picked = Picked::default();
        let mut model: Vec<(Key, u32)> = Vec::new();
        let mut x: u64 = 7;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = ((x >> 33) % 5) as u32;
            let key: Key = (u128::from((x >> 40) % 50), p + 2, p);
            match (x >> 20) % 3 {
                0 => {
                    picked.push(p, key);
                    model.retain(|e| e.1 != p);
                    model.push((key, p));
                }
                1 => {
                    picked.remove(p);
                    model.retain(|e| e.1 != p);
                }
                _ => {
                    picked.update(p, key);
                    if let Some(e) = model.iter_mut().find(|e| e.1 == p) {
                        e.0 = key;
                    }
                }
            }
            assert_eq!(picked.len(), model.len());
            assert_eq!(picked.contains(p), model.iter().any(|e| e.1 == p));
            assert_eq!(
                picked.least_pass(),
                model.iter().map(|e| e.0.0).min(),
                "{model:?}"
            );
        }
    }

    #[test]
    fn pro_rata_and_integer_strides() {
        let mut s = stride(1000, 4, &[3, 1000, 5000]);
        // 1000 / 3 = 333; 1000 / 1000 = 1; 1000 / 5000 = 0, held at 1.
        assert_eq!(
            s.procs.iter().map(|pr| pr.stride).collect::<Vec<_>>(),
            [333, 1, 1]
        );
        s.enqueue(0, Ready::Admit, 0, 0);
        let mut g = SeededRng::new(0);
        assert_eq!(s.pick(0, &mut g), Some(0));
        assert_eq!(s.slice(0, 0), 4);
        // One tick of a 4-tick quantum: a quarter of the stride, kept exactly as 333 × 1.
        run(&mut s, 0, 1, Leave::Block);
        assert_eq!(s.pass_scaled(0), 333);
        run(&mut s, 0, 4, Leave::SliceEnd);
        assert_eq!(s.pass_scaled(0), 333 * 5);
    }

    #[test]
    fn a_waking_process_takes_at_least_the_least_pass_of_the_others() {
        let mut s = stride(10_000, 1, &[100, 100, 100]);
        let mut g = SeededRng::new(0);
        s.enqueue(0, Ready::Admit, 0, 0);
        // Alone: it keeps its own pass.
        assert_eq!(s.pass_scaled(0), 0);
        assert_eq!(s.pick(0, &mut g), Some(0));
        run(&mut s, 0, 50, Leave::SliceEnd);
        s.enqueue(0, Ready::SliceEnd, 0, 0);
        assert_eq!(s.pick(0, &mut g), Some(0));
        // 0 runs with pass 5000; 1 is admitted and takes that (running counts).
        s.enqueue(1, Ready::Admit, 0, 0);
        assert_eq!(s.pass_scaled(1), 5000);
        run(&mut s, 0, 10, Leave::Block);
        // 2 blocked long ago with a low pass; it wakes to the least of the others (1's 5000).
        s.procs[2].pass = 700;
        s.enqueue(2, Ready::Wake, 0, 0);
        assert_eq!(s.pass_scaled(2), 5000);
        // Equal passes: the lowest pid.
        assert_eq!(s.pick(0, &mut g), Some(1));
        assert_eq!(s.pick(0, &mut g), Some(2));
        // A process ahead of everyone keeps its own pass when it wakes.
        s.enqueue(0, Ready::Wake, 0, 0);
        assert_eq!(s.pass_scaled(0), 6000);
        // A slice end never raises a pass.
        run(&mut s, 1, 0, Leave::SliceEnd);
        s.on_exit(2);
        s.procs[1].pass = 10;
        s.enqueue(1, Ready::SliceEnd, 0, 0);
        assert_eq!(s.pass_scaled(1), 10);
        assert_eq!(s.upcoming(0), Some(1));
        assert!(s.remove(1));
        assert_eq!(s.len(), 1);
    }
}
