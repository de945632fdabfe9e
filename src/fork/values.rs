//! `kernel.max_values` on real processes: the globals copied into processes, counted as the
//! simulated kernel counts them (`sim/lifecycle.rs`, `own_globals`). A child shares its
//! creator's globals from its fork until one of them changes one; the first change copies
//! them all, and that copy is what is counted. Real processes copy them too (the fork's pages,
//! and every value a process changes is sent to the supervisor and kept in the CLI's report),
//! so a small scenario with large globals and thousands of children would otherwise exhaust
//! memory on this backend as well.
//!
//! The supervisor follows the events every process sends: who was spawned by whom, when it
//! was forked (the creator's `started`, or the child's own `run` if that comes first), and each
//! change of a global. It keeps only each global's weight ([`Value::weight`]), shared between
//! processes exactly as the simulated kernel shares the values (one `Arc` a group of sharers).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

use super::protocol::{Event, Key};
use crate::program::Plan;

/// The globals' weights of every process of a run, and the copies made so far.
#[derive(Debug, Default)]
pub struct ValuesMeter {
    /// The plan's globals' weights.
    initial: Vec<u64>,
    /// What the top-level processes share while none has changed them (held by them alone:
    /// the meter's own reference must not count as a sharer).
    top: Weak<Vec<u64>>,
    /// Each process: its creator and its globals' weights.
    procs: HashMap<Key, (Option<Key>, Arc<Vec<u64>>)>,
    /// Processes whose fork has been seen.
    forked: HashSet<Key>,
    /// Items and characters copied so far.
    copied: u64,
}

impl ValuesMeter {
    /// A meter for a run of `plan`.
    pub fn new(plan: &Plan) -> Self {
        ValuesMeter {
            initial: plan.globals.iter().map(|(_, v)| v.weight()).collect(),
            ..Default::default()
        }
    }

    /// Follows `e`; `Err` says the copy it records took the run past `max` (the copy is
    /// made: it is one process's, and the run stops).
    pub fn note(&mut self, e: &Event, max: u64) -> Result<(), String> {
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
                self.procs.insert(key.clone(), (creator.clone(), shared));
            }
            // The fork copies the creator's globals as they are then: share them anew.
            Event::Started { key, .. } | Event::Run { key, .. } => {
                if self.forked.insert(key.clone())
                    && let Some((Some(c), _)) = self.procs.get(key)
                    && let Some((_, w)) = self.procs.get(c)
                {
                    let w = Arc::clone(w);
                    if let Some(entry) = self.procs.get_mut(key) {
                        entry.1 = w;
                    }
                }
            }
            Event::Global { key, index, value } => {
                let Some((_, weights)) = self.procs.get_mut(key) else {
                    return Ok(());
                };
                let mut over = Ok(());
                if Arc::strong_count(weights) > 1 {
                    let weight = weights.iter().fold(0u64, |w, &x| w.saturating_add(x));
                    self.copied = self.copied.saturating_add(weight);
                    if self.copied > max {
                        over = Err(format!(
                            "kernel.max_values ({max} items and characters of globals copied into processes) reached; raise it if the copies are wanted"
                        ));
                    }
                }
                if let Some(slot) = Arc::make_mut(weights).get_mut(*index as usize) {
                    *slot = value.weight();
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
            key: key.into(),
            creator: creator.map(Into::into),
            name: key.into(),
            program: 0,
            daemon: false,
            t: 0,
        }
    }

    fn started(key: &str) -> Event {
        Event::Started {
            key: key.into(),
            pid: 9,
            t_admit: 0,
        }
    }

    fn set(key: &str, value: Value) -> Event {
        Event::Global {
            key: key.into(),
            index: 1,
            value,
        }
    }

    /// The runaway test's case in small: globals of 1,000 + 1 characters and items; each
    /// child that changes `n` copies 1,001. A lone top-level process copies nothing.
    #[test]
    fn copies_are_counted_as_the_simulated_kernel_counts_them() {
        let mut m = ValuesMeter {
            initial: vec![1000, 1],
            ..Default::default()
        };
        m.note(&spawn("0", None), 10).unwrap();
        assert_eq!(m.note(&set("0", Value::Int(2)), 10), Ok(()));
        assert_eq!(m.copied, 0);
        for c in ["0:1", "0:2", "0:3"] {
            m.note(&spawn(c, Some("0")), 5000).unwrap();
            m.note(&started(c), 5000).unwrap();
        }
        // The first child's change copies the globals it shares with its parent and siblings.
        m.note(&set("0:1", Value::Int(1)), 5000).unwrap();
        assert_eq!(m.copied, 1001);
        // A second change of its own copy costs nothing.
        m.note(&set("0:1", Value::Int(3)), 5000).unwrap();
        assert_eq!(m.copied, 1001);
        m.note(&set("0:2", Value::Int(1)), 5000).unwrap();
        m.note(&set("0:3", Value::Int(1)), 5000).unwrap();
        // The last sharer left, the parent, changes its own: no copy (as `Arc::make_mut`).
        m.note(&set("0", Value::Int(1)), 5000).unwrap();
        assert_eq!(m.copied, 3003);
        // Past the limit: the copy is counted and the run is told to stop.
        m.note(&spawn("0:4", Some("0")), 3500).unwrap();
        m.note(&started("0:4"), 3500).unwrap();
        let e = m.note(&set("0:4", Value::Int(1)), 3500).unwrap_err();
        assert!(e.contains("kernel.max_values (3500"), "{e}");
        assert_eq!(m.copied, 4004);
    }
}
