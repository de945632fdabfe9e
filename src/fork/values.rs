//! `kernel.max_values` and `kernel.max_value_bytes` on real processes: the globals copied
//! into processes, and those every process holds, counted as the simulated kernel counts them
//! (`sim/values.rs`). A child shares its
//! creator's globals from its fork until one of them changes one; the first change copies
//! them all, and that copy is what is counted. Real processes copy them too (the fork's pages,
//! and every value a process changes is sent to the supervisor and kept in the CLI's report),
//! so a small scenario with large globals and thousands of children would otherwise exhaust
//! memory on this backend as well.
//!
//! The supervisor follows the events every process sends: who was spawned by whom, when it
//! was forked (the creator's `started`, or the child's own `run` if that comes first), and each
//! change of a global. It keeps only each global's weight ([`Value::weight`]) and bytes
//! ([`Value::footprint`]), shared between processes exactly as the simulated kernel shares the
//! values (one `Arc` a group of sharers).
//!
//! [`Value::weight`]: crate::Value::weight
//! [`Value::footprint`]: crate::Value::footprint

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

use super::protocol::{Event, Key};
use crate::program::Plan;
use crate::scenario::{KernelConfig, ValuesHeld};

/// A global's weight (for copies) and bytes (for what is held).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sizes {
    weight: u64,
    bytes: u64,
}

impl Sizes {
    fn of(v: &crate::Value) -> Sizes {
        Sizes {
            weight: v.weight(),
            bytes: v.footprint(),
        }
    }
}

fn bytes(globals: &[Sizes]) -> u64 {
    globals.iter().fold(0u64, |w, s| w.saturating_add(s.bytes))
}

/// The globals' weights of every process of a run, and the copies made so far.
#[derive(Debug, Default)]
pub struct ValuesMeter {
    /// The plan's globals' sizes.
    initial: Vec<Sizes>,
    /// What the top-level processes share while none has changed them (held by them alone:
    /// the meter's own reference must not count as a sharer).
    top: Weak<Vec<Sizes>>,
    /// Each process: its creator and its globals' sizes.
    procs: HashMap<Key, (Option<Key>, Arc<Vec<Sizes>>)>,
    /// Processes whose fork has been seen.
    forked: HashSet<Key>,
    /// Items and characters copied so far.
    copied: u64,
    /// Bytes of every process's globals.
    held: ValuesHeld,
}

impl ValuesMeter {
    /// A meter for a run of `plan`.
    pub fn new(plan: &Plan) -> Self {
        ValuesMeter {
            initial: plan.globals.iter().map(|(_, v)| Sizes::of(v)).collect(),
            ..Default::default()
        }
    }

    /// Follows `e`; `Err` says the copy it records took the run past `kernel.max_values`, or
    /// what the processes hold past `kernel.max_value_bytes` (the change is made: it is one
    /// process's, and the run stops).
    pub fn note(&mut self, e: &Event, kernel: &KernelConfig) -> Result<(), String> {
        let max = kernel.max_values;
        match e {
            Event::Spawn { key, creator, .. } => {
                let shared = match creator.as_ref().and_then(|c| self.procs.get(c)) {
                    Some((_, w)) => Arc::clone(w),
                    None => self.top.upgrade().unwrap_or_else(|| {
                        let w = Arc::new(self.initial.clone());
                        self.top = Arc::downgrade(&w);
                        w
                    }),
                };
                let held = bytes(&shared);
                self.procs.insert(key.clone(), (creator.clone(), shared));
                return self.held.change(0, held, kernel);
            }
            // The fork copies the creator's globals as they are then: share them anew.
            Event::Started { key, .. } | Event::Run { key, .. } => {
                if self.forked.insert(key.clone())
                    && let Some((Some(c), _)) = self.procs.get(key)
                    && let Some((_, w)) = self.procs.get(c)
                {
                    let w = Arc::clone(w);
                    if let Some(entry) = self.procs.get_mut(key) {
                        let before = bytes(&entry.1);
                        let after = bytes(&w);
                        entry.1 = w;
                        return self.held.change(before, after, kernel);
                    }
                }
            }
            Event::Global { key, index, value } => {
                let Some((_, weights)) = self.procs.get_mut(key) else {
                    return Ok(());
                };
                let mut over = Ok(());
                if Arc::strong_count(weights) > 1 {
                    let weight = weights.iter().fold(0u64, |w, x| w.saturating_add(x.weight));
                    self.copied = self.copied.saturating_add(weight);
                    if self.copied > max {
                        over = Err(format!(
                            "kernel.max_values ({max} items and characters of globals copied into processes) reached; raise it if the copies are wanted"
                        ));
                    }
                }
                if let Some(slot) = Arc::make_mut(weights).get_mut(*index as usize) {
                    let before = slot.bytes;
                    *slot = Sizes::of(value);
                    let held = self.held.change(before, slot.bytes, kernel);
                    return over.and(held);
                }
                return over;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;

    fn spawn(key: &str, creator: Option<&str>) -> Event {
        Event::Spawn {
            key: key.to_owned().into(),
            creator: creator.map(|c| c.to_owned().into()),
            name: key.to_owned().into(),
            program: 0,
            daemon: false,
            t: 0,
        }
    }

    fn started(key: &str) -> Event {
        Event::Started {
            key: key.to_owned().into(),
            pid: 9,
            t_admit: 0,
        }
    }

    fn k(max_values: u64) -> KernelConfig {
        KernelConfig {
            max_values,
            ..KernelConfig::default()
        }
    }

    fn sizes(weight: u64) -> Sizes {
        Sizes { weight, bytes: 0 }
    }

    fn set(key: &str, value: Value) -> Event {
        Event::Global {
            key: key.to_owned().into(),
            index: 1,
            value,
        }
    }

    /// The runaway test's case in small: globals of 1,000 + 1 characters and items; each
    /// child that changes `n` copies 1,001. A lone top-level process copies nothing.
    #[test]
    fn copies_are_counted_as_the_simulated_kernel_counts_them() {
        let mut m = ValuesMeter {
            initial: vec![sizes(1000), sizes(1)],
            ..Default::default()
        };
        m.note(&spawn("0", None), &k(10)).unwrap();
        assert_eq!(m.note(&set("0", Value::Int(2)), &k(10)), Ok(()));
        assert_eq!(m.copied, 0);
        for c in ["0:1", "0:2", "0:3"] {
            m.note(&spawn(c, Some("0")), &k(5000)).unwrap();
            m.note(&started(c), &k(5000)).unwrap();
        }
        // The first child's change copies the globals it shares with its parent and siblings.
        m.note(&set("0:1", Value::Int(1)), &k(5000)).unwrap();
        assert_eq!(m.copied, 1001);
        // A second change of its own copy costs nothing.
        m.note(&set("0:1", Value::Int(3)), &k(5000)).unwrap();
        assert_eq!(m.copied, 1001);
        m.note(&set("0:2", Value::Int(1)), &k(5000)).unwrap();
        m.note(&set("0:3", Value::Int(1)), &k(5000)).unwrap();
        // The last sharer left, the parent, changes its own: no copy (as `Arc::make_mut`).
        m.note(&set("0", Value::Int(1)), &k(5000)).unwrap();
        assert_eq!(m.copied, 3003);
        // Past the limit: the copy is counted and the run is told to stop.
        m.note(&spawn("0:4", Some("0")), &k(3500)).unwrap();
        m.note(&started("0:4"), &k(3500)).unwrap();
        let e = m.note(&set("0:4", Value::Int(1)), &k(3500)).unwrap_err();
        assert!(e.contains("kernel.max_values (3500"), "{e}");
        assert_eq!(m.copied, 4004);
    }

    /// Every process's globals count, shared or not: three processes sharing 100 bytes hold
    /// 300; a global that grows counts its growth in its process alone.
    #[test]
    fn bytes_held_count_every_process() {
        let s = Value::Str("x".repeat(68));
        let one = s.footprint();
        assert_eq!(one, 100);
        let mut m = ValuesMeter {
            initial: vec![Sizes::of(&s), Sizes::of(&Value::None)],
            ..Default::default()
        };
        let none = Value::None.footprint();
        let kernel = KernelConfig {
            max_value_bytes: 3 * (one + none) + 40,
            ..KernelConfig::default()
        };
        m.note(&spawn("0", None), &kernel).unwrap();
        for c in ["0:1", "0:2"] {
            m.note(&spawn(c, Some("0")), &kernel).unwrap();
            m.note(&started(c), &kernel).unwrap();
        }
        assert_eq!(m.held.held(), 3 * (one + none));
        m.note(&set("0:1", Value::Str("y".repeat(40))), &kernel)
            .unwrap();
        assert_eq!(m.held.held(), 3 * (one + none) + 40);
        let e = m
            .note(&set("0:2", Value::Str("y".repeat(40))), &kernel)
            .unwrap_err();
        assert!(e.contains("kernel.max_value_bytes ("), "{e}");
    }
}
