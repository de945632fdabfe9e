//! The `kernel` section of a scenario (SPEC §3): CPUs, quantum, switch costs, the
//! same-tick conventions, the exit policy, the policy and the kernel's limits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy::{self, PolicyConfig};

/// Which group of same-tick arrivals at the ready queue goes first (SPEC section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadyGroup {
    /// Processes whose blocking ended.
    Wake,
    /// Arrivals and `start`s.
    Admit,
    /// Processes whose slice ran out.
    Preempt,
}

impl ReadyGroup {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ReadyGroup::Wake => "wake",
            ReadyGroup::Admit => "admit",
            ReadyGroup::Preempt => "preempt",
        }
    }
}

/// Where a process whose blocking ended joins the ready queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WakeTo {
    /// At the tail, like every other arrival (the default).
    #[default]
    Tail,
    /// At the head, ahead of everyone.
    Head,
}

/// What slice a process gets when it is dispatched after blocking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SliceAfterBlock {
    /// A fresh quantum (the default).
    #[default]
    Fresh,
    /// What was left of the slice when it blocked, or a fresh one if nothing was.
    Keep,
}

/// What happens to a process's children when it ends by itself (SPEC section 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitPolicy {
    /// Python's: SIGTERM to live daemon children, join the others in creation order, then end.
    #[default]
    Multiprocessing,
    /// Unix's: end at once; daemon children get SIGTERM; the others are reparented to init.
    Posix,
}

/// The `kernel` block: scheduling conventions and limits. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct KernelConfig {
    /// The scheduling policy (SPEC section 3a): a name, or an object with a name and the
    /// policy's parameters.
    #[serde(deserialize_with = "policy::deserialize")]
    #[schemars(with = "policy::PolicySchema")]
    pub policy: PolicyConfig,
    /// Time slice in ticks, at least 1.
    #[schemars(range(min = 1))]
    pub quantum: u64,
    /// Ticks a CPU spends switching to a process other than the one it ran last.
    pub context_switch: u64,
    /// Ticks a CPU spends switching between two threads of one process (SPEC §4a), instead
    /// of `context_switch`.
    pub thread_switch: u64,
    /// CPython's global interpreter lock (SPEC §4a): at most one thread of a process runs
    /// at a time.
    pub gil: bool,
    /// Number of CPUs sharing the ready queue.
    #[schemars(range(min = 1, max = 1024))]
    pub cpus: u32,
    /// What a process that ends does with its children.
    pub exit_policy: ExitPolicy,
    /// Pids are below this, as in Linux's `/proc/sys/kernel/pid_max`.
    #[schemars(range(min = 3, max = 4_194_304))]
    pub pid_max: u32,
    /// Live processes (created and not yet reaped) at most; more is a fork error.
    #[schemars(range(min = 1))]
    pub max_processes: u32,
    /// The run stops with an error when simulated time would pass this tick.
    #[schemars(range(min = 1))]
    pub max_ticks: u64,
    /// The run stops with an error after this many instructions.
    pub max_steps: u64,
    /// The run stops with an error after this many lines of output in all.
    pub max_output: u64,
    /// The run stops with an error after this many bytes of output in all.
    pub max_output_bytes: u64,
    /// The run stops with an error when its trace (every transition, kept for the report or
    /// streamed as JSON) would pass this many events.
    pub max_trace: u64,
    /// The run stops with an error after the simulated kernel has handled this many events
    /// (a tick at which something happens counts once for each CPU it looks at).
    pub max_events: u64,
    /// The run stops with an error when the processes' own copies of the globals (made when
    /// a process changes globals it shares with its parent or children) add up to more than
    /// this many items and characters.
    pub max_values: u64,
    /// The run stops with an error when the globals of all its processes take more than this
    /// many bytes, each process's counted (shared with its parent or not: the report lists
    /// them for each), ended processes' included.
    pub max_value_bytes: u64,
    /// Real microseconds of CPU time a tick stands for on the fork backend.
    pub tick_us: u64,
    /// The fork backend's wall-clock limit for a run, in seconds (default 60; `--timeout`
    /// overrides it). The simulated kernel ignores it.
    #[schemars(range(min = 0.001, max = 31536000.0))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_timeout_s: Option<f64>,
    /// The order in which same-tick groups join the ready queue: each of `wake`, `admit` and
    /// `preempt` once. Not given: the policy's own (SPEC §3a), which is `wake, admit,
    /// preempt` but for `mlfq`, whose `mlfq.py` conventions are `preempt, admit, wake`.
    #[schemars(length(min = 3, max = 3), extend("uniqueItems" = true))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick_order: Option<Vec<ReadyGroup>>,
    /// Where woken processes join the ready queue.
    pub wake_to: WakeTo,
    /// Which slice a process gets after it blocked.
    pub slice_after_block: SliceAfterBlock,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            policy: PolicyConfig::default(),
            quantum: 4,
            context_switch: 0,
            thread_switch: 0,
            gil: true,
            cpus: 1,
            exit_policy: ExitPolicy::Multiprocessing,
            pid_max: 32768,
            max_processes: 4096,
            max_ticks: 100_000_000,
            max_steps: 100_000_000,
            max_output: 100_000,
            max_output_bytes: 64 << 20,
            max_trace: 1_000_000,
            max_events: 1_000_000_000,
            max_values: 16 << 20,
            max_value_bytes: 256 << 20,
            tick_us: 1000,
            real_timeout_s: None,
            tick_order: None,
            wake_to: WakeTo::Tail,
            slice_after_block: SliceAfterBlock::Fresh,
        }
    }
}

impl KernelConfig {
    /// The same-tick order in force: the scenario's `tick_order`, or the policy's default.
    pub fn tick_order(&self) -> [ReadyGroup; 3] {
        use ReadyGroup::{Admit, Preempt, Wake};
        match &self.tick_order {
            Some(order) if order.len() == 3 => [order[0], order[1], order[2]],
            _ => match self.policy {
                PolicyConfig::Mlfq(_) => [Preempt, Admit, Wake],
                _ => [Wake, Admit, Preempt],
            },
        }
    }
}

/// Largest `pid_max`, as on Linux (`PID_MAX_LIMIT`).
pub const PID_MAX_LIMIT: u32 = 4_194_304;
/// Most CPUs a scenario may ask for.
pub const CPUS_LIMIT: u32 = 1024;
