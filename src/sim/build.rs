//! Making a kernel: its fields from the plan, and the top-level processes' records.

use std::sync::Arc;

use super::pcb::{Hot, Kind, NO_PROC, NONE, Pcb, advise_huge_pages};
use super::pids::Pids;
use super::rng::SeededRng;
use super::timers::Timers;
use super::{
    Cpu, HELD_TRACE_CEILING, Kernel, Needs, Policy, Recorder, Run, SimOptions, exec, explain,
    thread_reserve,
};
use crate::program::Plan;

impl<P: Policy> Kernel<P> {
    /// A kernel for `plan` with a policy of the caller's choosing.
    pub fn with_policy(plan: Arc<Plan>, opts: SimOptions, policy: P) -> Self {
        let k = &plan.kernel;
        // The fast paths assume one task a process (a thread's GIL and its process's other
        // tasks are the general rounds' business): off for a plan with threads, whose
        // results are then the general rounds', which the fast paths are tested against.
        let threads_on = plan.uses_threads();
        // On one CPU the GIL never sets a thread aside (`gil_on`), and with `thread_switch`
        // equal to `context_switch` a switch costs the same whoever it goes to: then the fast
        // paths' one-task-a-process view gives the general rounds' results (the scenario
        // tests run every scenario both ways).
        let one_task_view = k.cpus == 1 && k.thread_switch == k.context_switch;
        let fast_paths = policy.fast_paths_exact() && (!threads_on || one_task_view);
        let needs = Needs {
            attributes: !policy.fast_paths_exact(),
            bursts: policy.needs_bursts(),
            preemption: policy.is_preemptive(),
            block_charges: policy.charges_blocks(),
        };
        let mut kernel = Kernel {
            cpus: vec![
                Cpu {
                    run: Run::Idle,
                    last: NO_PROC,
                    since: 0,
                };
                k.cpus as usize
            ],
            pids: Pids::new(k.pid_max),
            rng: SeededRng::new(plan.seed),
            now: 0,
            hot: Vec::new(),
            procs: Vec::new(),
            policy,
            timers: Timers::default(),
            arrivals: Vec::new(),
            next_arrival: 0,
            top_ends: Vec::new(),
            next_arrival_at: NONE,
            max_ticks: k.max_ticks,
            output_bytes: Default::default(),
            traced: 0,
            held_ceiling: (HELD_TRACE_CEILING, "the default"),
            held_names: 0,
            names_past: NO_PROC,
            records_ceiling: super::KEPT_RECORDS_CEILING,
            listed_ceiling: super::LISTED_PROCESSES_CEILING,
            values_copied: 0,
            values_held: Default::default(),
            last_weighed: Default::default(),
            absent_holders: Default::default(),
            events: 0,
            fast_ticks: 0,
            woken: Vec::new(),
            admitted: Vec::new(),
            preempted: Vec::new(),
            started: Vec::new(),
            pending_preempts: 0,
            pending_on: Vec::new(),
            fast_paths,
            fast_wakes: !threads_on || one_task_view,
            wakes_in_slice: true,
            needs,
            attrs: Vec::new(),
            group: Vec::new(),
            task_group: Vec::new(),
            thread_no: Vec::new(),
            bursts: Vec::new(),
            order: k.tick_order(),
            steps: 0,
            output_lines: 0,
            lines: 0,
            switch_ticks: 0,
            context_switches: 0,
            trace: if opts.trace {
                Recorder::Keep(Vec::new())
            } else {
                Recorder::Off
            },
            log: None,
            ready_ids: explain::ReadyIds::default(),
            error: None,
            finished: false,
            next_outside: 0,
            outside: super::outside::Targets::of(&plan.events),
            notes: Vec::new(),
            notes_left_out: 0,
            recycler: Default::default(),
            epitaphs: None,
            threads_on,
            gil_on: threads_on && k.gil && k.cpus > 1,
            groups: Vec::new(),
            proc_index: Vec::new(),
            proc_slots: Vec::new(),
            top_globals: Arc::new(plan.globals.iter().map(|(_, v)| v.clone()).collect()),
            top_sharers: 0,
            joins: Default::default(),
            waits: Default::default(),
            decoded: exec::decode_programs(&plan.programs),
            plan,
        };
        kernel.create_top_level();
        kernel
    }

    /// A top-level record's entry in the plan and copy number (from 1), from its slot.
    pub(super) fn top_entry(&self, p: u32) -> (usize, u32) {
        let e = self.top_ends.partition_point(|&end| end <= p);
        let first = if e == 0 { 0 } else { self.top_ends[e - 1] };
        (e, p - first + 1)
    }

    fn create_top_level(&mut self) {
        let plan = Arc::clone(&self.plan);
        let globals = Arc::clone(&self.top_globals);
        let total: u64 = plan.processes.iter().map(|e| e.count).sum();
        let mut end = 0u64;
        self.top_ends = plan
            .processes
            .iter()
            .map(|e| {
                end += e.count;
                end as u32
            })
            .collect();
        // The threads the plan says these processes start keep records too (no record is
        // reused in a run with threads): room for them now (thread_reserve.rs).
        let ahead = thread_reserve::threads_ahead(&plan, total);
        let records = total.saturating_add(ahead) as usize;
        self.procs.reserve(records);
        self.hot.reserve(records);
        advise_huge_pages(&self.procs);
        advise_huge_pages(&self.hot);
        if self.threads_on {
            self.proc_index.reserve(records);
            self.proc_slots.reserve(records);
            self.task_group.reserve(records);
            self.thread_no.reserve(records);
        }
        for top in plan.processes.iter() {
            let needs_args = !top.args.is_empty() || !top.kwargs.is_empty();
            let args = if needs_args {
                let mut args = Vec::with_capacity(top.args.len());
                for a in &top.args {
                    args.push(self.eval_static(a));
                }
                let kwargs: Vec<_> = top
                    .kwargs
                    .iter()
                    .map(|(k, v)| (Arc::clone(k), self.eval_static(v)))
                    .collect();
                Some((args, kwargs))
            } else {
                None
            };
            for copy in 1..=top.count {
                // Validation guarantees the top-level processes fit under pid_max.
                let Some(pid) = self.pids.alloc() else {
                    self.error = Some("no free pid for a top-level process".into());
                    return;
                };
                let weight = self.weigh(&globals);
                self.hold_values(0, weight);
                // Its entry and copy number are its slot's (`top_ends`): the top-level
                // processes take the first slots, in this order.
                let mut pcb = Pcb::new(NO_PROC, 0);
                pcb.kind = Kind::Top;
                if let Some((args, kwargs)) = &args {
                    let cold = pcb.cold();
                    cold.args = args.clone();
                    cold.kwargs = kwargs.clone();
                }
                let idx = self.new_slot(pcb, Hot::new(top.program, pid, 0));
                self.top_sharers += 1;
                self.created(idx, top.attrs, None);
                if args.is_none() && plan.programs[top.program as usize].params.is_empty() {
                    // Nothing to bind (no parameters, no arguments): bound now, where its
                    // records are in the cache, and not at its first run (`exec_general`),
                    // which would find the same but read its cold record to learn it: at 10^5
                    // processes a random pick's (lottery) is rarely in the cache.
                    self.hot[idx as usize].bound = true;
                }
                if copy == 1 {
                    self.arrivals.push((top.arrival, idx, top.count as u32));
                }
                if self.names_past == NO_PROC && !self.count_name(idx) {
                    // Made all the same: a run that passes its trace on (`Sim::run_to_json`,
                    // `run_streaming`) holds no names, and it is known only once it runs.
                    self.names_past = idx;
                }
            }
        }
        // Stable sort: same-tick arrivals stay in scenario order.
        self.arrivals.sort_by_key(|&(t, ..)| t);
        debug_assert!(self.procs.len() as u64 == total || self.error.is_some());
        self.next_arrival_at = self.arrivals.first().map_or(NONE, |a| a.0);
    }
}
