//! The real scheduling policy that stands for the scenario's (SPEC section 3a, last
//! paragraph), decided once by the supervisor and applied by every process of the run to
//! itself.
//!
//! | scenario | real | when |
//! |---|---|---|
//! | `rr` | `SCHED_RR`, `sched_priority` 1 | `--realtime` and the privilege for it |
//! | `fcfs` | `SCHED_FIFO`, `sched_priority` 1 | the same |
//! | `priority` | `SCHED_FIFO`, the scenario's distinct priorities onto 1 … 99 in order | the same |
//! | `cfs`, `eevdf` | `SCHED_OTHER` with each process's `nice` | always (a positive nice needs no privilege) |
//! | the others | none: the normal scheduler, as before policies existed | always |
//!
//! A real-time policy needs `CAP_SYS_NICE` (root has it) or an `RLIMIT_RTPRIO` at least as
//! high as the `sched_priority` asked for. Without it the run goes on under the normal
//! scheduler and the report says so ([`RealPolicy::fallback`], [`RealPolicy::unprivileged`]);
//! a nice value the kernel refuses (lower than the current one, without `CAP_SYS_NICE`) is
//! reported for that process ([`RealPolicy::notes`]).
//!
//! Who sets what: a top-level process sets its policy and nice itself right after the
//! supervisor's fork, before it is pinned to the run's CPUs (a normal process moved onto a CPU
//! where a real-time one spins would wait there until that one blocks) and before it sleeps
//! until its arrival; a child created by `spawn`/`fork` inherits its creator's from the
//! kernel, as the model's children inherit unset attributes, and sets its own only where the
//! scenario gives it something else, in the child right after the fork, before it runs its
//! program. So nothing but the supervisor and the run's own single-threaded processes ever
//! forks, and no process changes another's scheduling.

use crate::program::{Op, Plan};
use crate::report::{RealPolicy, RtLevel};
use crate::scenario::PolicyConfig;
use crate::scenario::policy::PriorityParams;

/// A Linux scheduling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `SCHED_OTHER`: the normal scheduler (CFS before Linux 6.6, EEVDF since).
    Other,
    /// `SCHED_RR`.
    Rr,
    /// `SCHED_FIFO`.
    Fifo,
}

impl Class {
    /// Its name in `sched(7)`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Other => "SCHED_OTHER",
            Class::Rr => "SCHED_RR",
            Class::Fifo => "SCHED_FIFO",
        }
    }

    /// The real-time policy's number for `sched_setscheduler`, `None` for the normal one.
    fn realtime(self) -> Option<libc::c_int> {
        match self {
            Class::Other => None,
            Class::Rr => Some(libc::SCHED_RR),
            Class::Fifo => Some(libc::SCHED_FIFO),
        }
    }
}

/// What every process of a run applies to itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealSched {
    /// The policy the processes take.
    pub class: Class,
    /// Whether each process takes the scenario's nice value.
    pub nice: bool,
    /// `priority` → `sched_priority`, by priority (empty: `sched_priority` 1 for all).
    levels: Vec<RtLevel>,
}

impl RealSched {
    /// The normal scheduler, nothing set: what a run without a real counterpart gets.
    pub fn normal() -> RealSched {
        RealSched {
            class: Class::Other,
            nice: false,
            levels: Vec::new(),
        }
    }

    /// The `sched_priority` for a process of this `priority`.
    pub fn sched_priority(&self, priority: i64) -> i32 {
        match self.levels.binary_search_by_key(&priority, |l| l.priority) {
            Ok(i) => self.levels[i].sched_priority,
            // Every priority the scenario can give is in `levels`; a policy other than
            // `priority` has none and runs everything at 1.
            Err(_) => 1,
        }
    }

    /// Whether [`RealSched::apply`] can have nothing to do: the normal scheduler, nice
    /// values not taken. Inlined into a forked child's first steps, so that a run without a
    /// real policy does not fault in `apply`'s code page in every child.
    #[inline]
    pub fn sets_nothing(&self) -> bool {
        self.class == Class::Other && !self.nice
    }

    /// Takes the scenario's setting for a process of this `priority` and `nice`, where what
    /// it `held` (its creator's, copied by the fork) differs; returns what the kernel refused,
    /// for the report.
    pub fn apply(&self, held: &mut Held, priority: i64, nice: i64) -> Vec<String> {
        let mut refused = Vec::new();
        if let Some(policy) = self.class.realtime() {
            let want = self.sched_priority(priority);
            if held.rt != Some(want) {
                let param = libc::sched_param {
                    sched_priority: want,
                };
                // SAFETY: a plain system call on the calling process with a valid block.
                if unsafe { libc::sched_setscheduler(0, policy, &param) } == 0 {
                    held.rt = Some(want);
                } else {
                    let e = nix::errno::Errno::last();
                    let now = held.rt.map_or_else(
                        || "SCHED_OTHER".to_owned(),
                        |p| format!("{} sched_priority {p} (its creator's)", self.class.name()),
                    );
                    refused.push(format!(
                        "{} sched_priority {want} refused ({e}); it ran under {now}",
                        self.class.name()
                    ));
                }
            }
        }
        if self.nice && held.nice != Some(nice) {
            // SAFETY: plain system calls on the calling process.
            let ok = unsafe { libc::setpriority(libc::PRIO_PROCESS as _, 0, nice as libc::c_int) };
            if ok == 0 {
                held.nice = Some(nice);
            } else {
                let e = nix::errno::Errno::last();
                let now = current_nice();
                held.nice = now;
                let hint = if matches!(e, nix::errno::Errno::EPERM | nix::errno::Errno::EACCES) {
                    ": a nice lower than the current one needs CAP_SYS_NICE"
                } else {
                    ""
                };
                refused.push(format!(
                    "nice {nice} refused ({e}{hint}); it ran at nice {}",
                    now.map_or_else(|| "?".to_owned(), |n| n.to_string())
                ));
            }
        }
        refused
    }
}

/// What a process holds, as far as the run set it (copied by `fork`, as the kernel copies the
/// policy and nice value to a child).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// The real-time `sched_priority` it runs at, `None` under the normal scheduler.
    pub rt: Option<i32>,
    /// Its nice value, `None` while not known (a top-level process before it set one).
    pub nice: Option<i64>,
}

/// The nice value of the calling process.
fn current_nice() -> Option<i64> {
    nix::errno::Errno::clear();
    // SAFETY: a plain system call; −1 is a valid answer, so errno tells an error apart.
    let n = unsafe { libc::getpriority(libc::PRIO_PROCESS as _, 0) };
    (n != -1 || nix::errno::Errno::last_raw() == 0).then_some(n as i64)
}

/// Every `priority` a process of the plan can have, smallest (most urgent) first: each
/// top-level process's (0 when not given) and each one a `spawn`/`fork` gives (a child that
/// gives none inherits its creator's, which is already in the list).
pub fn priorities(plan: &Plan) -> Vec<i64> {
    let mut all: Vec<i64> = plan
        .processes
        .iter()
        .map(|t| t.attrs.priority.unwrap_or(0))
        .collect();
    for code in &plan.programs {
        for op in &code.ops {
            if let Op::Spawn { spec, .. } = op
                && let Some(p) = spec.attrs.priority
            {
                all.push(p);
            }
        }
    }
    all.sort_unstable();
    all.dedup();
    all
}

/// The distinct priorities (sorted, most urgent first) onto `sched_priority` 1 … 99 in the
/// same order: with k ≤ 99 of them, consecutive levels k, k−1, …, 1 (the least urgent at 1,
/// where `rr` and `fcfs` run too); with more, level 99 − ⌊rank × 99 / k⌋, so neighbours may
/// share a level but the order is never reversed.
pub fn levels(priorities: &[i64]) -> Vec<RtLevel> {
    let k = priorities.len();
    priorities
        .iter()
        .enumerate()
        .map(|(rank, &priority)| RtLevel {
            priority,
            sched_priority: if k <= 99 {
                (k - rank) as i32
            } else {
                99 - (rank * 99 / k) as i32
            },
        })
        .collect()
}

/// Whether this process may take a real-time policy at `sched_priority`: `CAP_SYS_NICE`, or
/// an `RLIMIT_RTPRIO` at least that high. The error says what is missing.
pub fn may_use_realtime(sched_priority: i32) -> Result<(), String> {
    if has_cap_sys_nice() {
        return Ok(());
    }
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a plain system call filling a valid block.
    let limit = if unsafe { libc::getrlimit(libc::RLIMIT_RTPRIO, &mut rl) } == 0 {
        rl.rlim_cur
    } else {
        0
    };
    if limit >= sched_priority.max(0) as u64 {
        return Ok(());
    }
    Err(format!(
        "the run lacks CAP_SYS_NICE (the privilege root has) and its RLIMIT_RTPRIO is {limit}, below sched_priority {sched_priority}"
    ))
}

/// `CAP_SYS_NICE` (capability 23) in this process's effective set.
fn has_cap_sys_nice() -> bool {
    const CAP_SYS_NICE: u32 = 23;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_NICE) != 0)
}

/// Decides the run's real policy: what the processes apply ([`RealSched`]) and what the report
/// says ([`RealPolicy`]). `may_rt` says whether a real-time policy up to a `sched_priority`
/// is permitted ([`may_use_realtime`] on a real run).
pub fn decide(
    policy: &PolicyConfig,
    priorities: &[i64],
    realtime: bool,
    may_rt: impl FnOnce(i32) -> Result<(), String>,
) -> (RealSched, RealPolicy) {
    let name = policy.name();
    let counterpart = match policy {
        PolicyConfig::Rr(_) => Some(Class::Rr),
        PolicyConfig::Fcfs(_) | PolicyConfig::Priority(_) => Some(Class::Fifo),
        PolicyConfig::Cfs(_) | PolicyConfig::Eevdf(_) => Some(Class::Other),
        _ => None,
    };
    let mut sched = RealSched::normal();
    let mut report = RealPolicy {
        scenario: name.to_owned(),
        counterpart: counterpart.map(|c| c.name().to_owned()),
        ran_under: Class::Other.name().to_owned(),
        ..RealPolicy::default()
    };
    match counterpart {
        None => {
            if realtime {
                report.notes.push(format!(
                    "--realtime has no effect: {name} has no real counterpart"
                ));
            }
        }
        Some(Class::Other) => {
            sched.nice = true;
            report.nice = true;
            if realtime {
                report.notes.push(format!(
                    "--realtime changes nothing: the counterpart of {name} is the normal scheduler"
                ));
            }
            report.notes.push(format!(
                "the kernel's own slices apply; {name}'s parameters in kernel.policy are the model's"
            ));
        }
        Some(rt) => {
            let levels = match policy {
                PolicyConfig::Priority(_) => levels(priorities),
                _ => Vec::new(),
            };
            let top = levels.first().map_or(1, |l| l.sched_priority);
            let permitted = if realtime {
                may_rt(top).map_err(|why| (why, true))
            } else {
                Err(("--realtime was not given".to_owned(), false))
            };
            match permitted {
                Ok(()) => {
                    sched.class = rt;
                    report.ran_under = rt.name().to_owned();
                    if let PolicyConfig::Priority(p) = policy {
                        report.notes.extend(priority_notes(p, priorities.len()));
                    }
                    report.rt_priorities = levels.clone();
                    sched.levels = levels;
                }
                Err((why, unprivileged)) => {
                    report.fallback = Some(why);
                    report.unprivileged = unprivileged;
                }
            }
        }
    }
    (sched, report)
}

/// Where `SCHED_FIFO` is not the model's `priority`.
fn priority_notes(p: &PriorityParams, distinct: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if !p.preemptive {
        notes.push(
            "SCHED_FIFO gives the CPU at once to a more urgent process that wakes up; the model's priority is non-preemptive (\"preemptive\": false)"
                .to_owned(),
        );
    }
    if p.aging.is_some() {
        notes.push(
            "aging has no real counterpart: each process keeps its sched_priority".to_owned(),
        );
    }
    if distinct > 99 {
        notes.push(format!(
            "{distinct} distinct priorities share the 99 real-time levels: neighbours may share one"
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> PolicyConfig {
        let s = crate::Scenario::from_str(&format!(
            r#"{{"kernel": {{"policy": {json}}}, "programs": {{"m": {{"body": []}}}}, "processes": [{{"program": "m"}}]}}"#
        ))
        .unwrap();
        s.kernel.policy
    }

    #[test]
    fn distinct_priorities_keep_their_order_on_one_to_ninety_nine() {
        let l = levels(&[-3, 0, 7]);
        let got: Vec<(i64, i32)> = l.iter().map(|l| (l.priority, l.sched_priority)).collect();
        assert_eq!(got, [(-3, 3), (0, 2), (7, 1)]);
        let many: Vec<i64> = (0..300).collect();
        let l = levels(&many);
        assert_eq!(l[0].sched_priority, 99);
        assert_eq!(l[299].sched_priority, 1);
        assert!(
            l.windows(2)
                .all(|w| w[0].sched_priority >= w[1].sched_priority)
        );
        assert!(l.iter().all(|l| (1..=99).contains(&l.sched_priority)));
    }

    #[test]
    fn each_policy_gets_its_counterpart_or_says_why_not() {
        let ok = |_| Ok(());
        let (s, r) = decide(&policy(r#""rr""#), &[0], true, ok);
        assert_eq!((s.class, r.ran_under.as_str()), (Class::Rr, "SCHED_RR"));
        assert!(r.used_counterpart());
        let (s, r) = decide(&policy(r#""fcfs""#), &[0], true, ok);
        assert_eq!((s.class, s.sched_priority(0)), (Class::Fifo, 1));
        assert!(r.notes.is_empty());
        let (s, r) = decide(&policy(r#""priority""#), &[1, 5], true, ok);
        assert_eq!((s.sched_priority(1), s.sched_priority(5)), (2, 1));
        assert_eq!(r.rt_priorities.len(), 2);
        assert!(r.notes[0].contains("non-preemptive"), "{:?}", r.notes);
        let (s, r) = decide(&policy(r#""cfs""#), &[0], false, ok);
        assert_eq!((s.class, s.nice), (Class::Other, true));
        assert!(r.used_counterpart() && r.nice);
        let (s, r) = decide(&policy(r#""sjf""#), &[0], true, ok);
        assert_eq!(s, RealSched::normal());
        assert_eq!(r.counterpart, None);
        assert!(r.notes[0].contains("no real counterpart"));
        // Without --realtime, or without the privilege, the normal scheduler, and why.
        let (s, r) = decide(&policy(r#""fcfs""#), &[0], false, ok);
        assert_eq!(s.class, Class::Other);
        assert_eq!(r.fallback.as_deref(), Some("--realtime was not given"));
        assert!(!r.unprivileged);
        let (s, r) = decide(&policy(r#""priority""#), &[0, 1, 2], true, |top| {
            assert_eq!(top, 3);
            Err("no CAP_SYS_NICE".into())
        });
        assert_eq!(s, RealSched::normal());
        assert!(r.unprivileged && r.rt_priorities.is_empty());
        assert_eq!(r.ran_under, "SCHED_OTHER");
    }

    #[test]
    fn the_plan_lists_every_priority_a_process_can_have() {
        let plan = crate::load_str(
            r#"{"kernel": {"policy": "priority"},
                "programs": {"m": {"body": [{"fork": {"as": "a", "program": "w", "priority": -2}},
                                            {"fork": {"as": "b", "program": "w"}}]},
                             "w": {"body": [{"cpu": 1}]}},
                "processes": [{"program": "m", "priority": 4}, {"program": "w"}]}"#,
        )
        .unwrap();
        assert_eq!(priorities(&plan), [-2, 0, 4]);
    }
}
