//! The instruction interpreter: what a process does at the instant it holds a CPU.
//!
//! The instructions that make up most of a run (`cpu`, `io`, `sleep` with literal operands,
//! the end of a `repeat`) are carried out here on a decoded table; every other one goes to
//! the process API's rules in [`crate::process`], which call back into this kernel's
//! mechanism through [`super::host::SimProc`]. An error a Python program would raise ends the
//! process there with exit code 1, as an uncaught exception ends a multiprocessing child.

use std::ops::ControlFlow;
use std::sync::Arc;

use super::host::SimProc;
use super::{Kernel, Policy};
use crate::model::{Cause, Value};
use crate::process;
use crate::program::{CExpr, Code, Op};

/// How a burst of zero-cost instructions left the process.
pub(super) enum Flow {
    /// It reached a `cpu` instruction; `burst_left` holds the ticks.
    Burst,
    /// It blocked or ended; its CPU is free.
    Left,
    /// A limit stopped the whole run.
    Stopped,
}

/// An instruction that needs nothing but its literal operands, decoded once per run into a
/// small table beside the plan ([`decode_programs`]), so that the instructions that make up
/// most of a run cost a table lookup.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Quick {
    Cpu(u64),
    Block(Cause, u64),
    /// The end of an unnamed `repeat` body whose `Loop` is at `start`. `outermost`: no other
    /// `repeat` of its program encloses it, so no outer count waits in the process's cold
    /// record for the end of its last iteration to take back ([`end_loop_of`]).
    EndLoop {
        start: u32,
        outermost: bool,
    },
    /// The start of an unnamed `repeat` of a literal count `times` that no other `repeat` of
    /// its program encloses (`end`: the instruction after its body). No outer count is
    /// running when it starts, so none is saved ([`enter_outermost_loop`]), and it needs
    /// neither the process's cold record nor the plan (`exec_general` takes a reference
    /// count on the plan for the instructions it hands to `process::step`: an atomic
    /// instruction, which waits for every load and prefetch under way, once a process at
    /// its first `repeat` on RR-IO-v1).
    EnterLoop {
        times: u64,
        end: u32,
    },
    /// Anything else: go through [`Kernel::exec_op`].
    Other,
}

impl Quick {
    /// `op`, which `depth` `repeat`s enclose (itself included for its `EndLoop`).
    fn decode(op: &Op, depth: usize) -> Quick {
        match op {
            Op::Cpu(CExpr::Lit(Value::Int(n))) if *n >= 0 => Quick::Cpu(*n as u64),
            Op::Io(CExpr::Lit(Value::Int(n))) if *n >= 0 => Quick::Block(Cause::Io, *n as u64),
            Op::Sleep(CExpr::Lit(Value::Int(n))) if *n >= 0 => {
                Quick::Block(Cause::Sleep, *n as u64)
            }
            Op::Loop {
                times: CExpr::Lit(Value::Int(n)),
                end,
                named: false,
            } if *n >= 0 && depth == 1 => Quick::EnterLoop {
                times: *n as u64,
                end: *end,
            },
            Op::EndLoop {
                start,
                named: false,
            } => Quick::EndLoop {
                start: *start,
                outermost: depth == 1,
            },
            _ => Quick::Other,
        }
    }
}

/// Each program's instructions decoded, indexed like the plan's programs and their ops.
pub(super) fn decode_programs(programs: &[Code]) -> Vec<Box<[Quick]>> {
    programs
        .iter()
        .map(|code| {
            // Loops are flattened in nesting order: each `EndLoop` closes the last `Loop` open.
            let mut depth = 0usize;
            code.ops
                .iter()
                .map(|op| {
                    if matches!(op, Op::Loop { .. }) {
                        depth += 1;
                    }
                    let quick = Quick::decode(op, depth);
                    if matches!(op, Op::EndLoop { .. }) {
                        depth = depth.saturating_sub(1);
                    }
                    quick
                })
                .collect()
        })
        .collect()
}

impl<P: Policy> Kernel<P> {
    /// Runs process `p` on CPU `c` from its program counter until it computes, blocks or ends.
    ///
    /// The quick instructions of a process that is under way are carried out here, inlined
    /// into the kernel's loop; anything else (the first run, the end, an instruction that needs
    /// more than its literal operands) goes to [`Kernel::exec_general`] from the same place.
    #[inline(always)]
    pub(super) fn exec(&mut self, p: u32, c: u32) -> Flow {
        let hot = &self.hot[p as usize];
        if hot.ending || !hot.bound {
            return self.exec_general(p, c);
        }
        let program = hot.program as usize;
        let max_steps = self.plan.kernel.max_steps;
        loop {
            // At the budget, the general loop stops the run with its message.
            if self.steps >= max_steps {
                return self.exec_general(p, c);
            }
            let pc = self.hot[p as usize].pc as usize;
            match self.decoded[program].get(pc) {
                Some(&Quick::Cpu(n)) if n > 0 => {
                    self.steps += 1;
                    self.hot[p as usize].burst_left = n;
                    return Flow::Burst;
                }
                Some(&Quick::Block(cause, n)) if n > 0 => {
                    self.steps += 1;
                    self.advance_pc(p);
                    self.block(p, c, cause, n);
                    return Flow::Left;
                }
                Some(&Quick::EndLoop { start, outermost }) => {
                    self.steps += 1;
                    self.end_loop_known(p, start, outermost);
                }
                Some(&Quick::EnterLoop { times, end }) => {
                    self.steps += 1;
                    enter_outermost_loop(&mut self.hot[p as usize], times, end);
                }
                Some(Quick::Cpu(_) | Quick::Block(..)) => {
                    self.steps += 1;
                    self.advance_pc(p);
                }
                Some(Quick::Other) | None => return self.exec_general(p, c),
            }
        }
    }

    /// [`Kernel::exec`] for every case: binds arguments at the first run, goes on with the
    /// exit of a process that is joining its children, and runs any instruction.
    #[inline(never)]
    fn exec_general(&mut self, p: u32, c: u32) -> Flow {
        if self.hot[p as usize].ending {
            let code = self.procs[p as usize].exit_code();
            if self.in_shutdown(p) {
                // Its non-daemon threads have ended: the process's end goes on.
                return process::shutdown_threads_then_end(&mut SimProc::new(self, p, c), code);
            }
            return process::join_children_then_end(&mut SimProc::new(self, p, c), code);
        }
        let program = self.hot[p as usize].program as usize;
        if !self.hot[p as usize].bound {
            self.hot[p as usize].bound = true;
            // A program without parameters started without arguments has nothing to bind.
            let nothing = self.procs[p as usize].cold.is_none()
                && self.plan.programs[program].params.is_empty();
            if !nothing {
                let plan = Arc::clone(&self.plan);
                if let Err(e) = self.bind_arguments(p, &plan.programs[program]) {
                    return process::fail(&mut SimProc::new(self, p, c), e);
                }
            }
        }
        let max_steps = self.plan.kernel.max_steps;
        // The plan, borrowed while the host mutates the kernel: cloned once a call, at the
        // first instruction that needs it, not at each (a main thread starting 10^5 threads
        // in a `repeat` runs them all in one call, and each clone is two atomic operations).
        let mut plan: Option<Arc<crate::program::Plan>> = None;
        loop {
            self.steps += 1;
            if self.steps > max_steps {
                let limit = process::Limit::MaxSteps {
                    at: format!("at tick {}", self.now),
                    max: max_steps,
                };
                self.stop(limit.to_string());
                return Flow::Stopped;
            }
            let pc = self.hot[p as usize].pc as usize;
            // The instructions that make up most of a run, with literal operands, are decoded
            // while the plan is borrowed and carried out after; the rest go through `exec_op`.
            let Some(&quick) = self.decoded[program].get(pc) else {
                return process::end_by_itself(&mut SimProc::new(self, p, c), 0);
            };
            // The quick instructions cannot fail or stop the run. (`exec` has the same match;
            // one helper shared by the two measured 2 % more instructions a dispatch on
            // RR-IO-v1, 255 to 260, so each keeps its own.)
            match quick {
                Quick::Cpu(0) | Quick::Block(_, 0) => {
                    self.advance_pc(p);
                    continue;
                }
                Quick::Cpu(n) => {
                    self.hot[p as usize].burst_left = n;
                    return Flow::Burst;
                }
                Quick::Block(cause, n) => {
                    self.advance_pc(p);
                    self.block(p, c, cause, n);
                    return Flow::Left;
                }
                Quick::EndLoop { start, outermost } => {
                    self.end_loop_known(p, start, outermost);
                    continue;
                }
                Quick::EnterLoop { times, end } => {
                    enter_outermost_loop(&mut self.hot[p as usize], times, end);
                    continue;
                }
                Quick::Other => {}
            }
            let plan = plan.get_or_insert_with(|| Arc::clone(&self.plan));
            let mut host = SimProc::new(self, p, c);
            match process::step(&mut host, &plan.programs[program].ops[pc]) {
                Ok(ControlFlow::Continue(())) => {}
                Ok(ControlFlow::Break(flow)) => return flow,
                Err(e) => return process::fail(&mut host, e),
            }
            if self.error.is_some() {
                return Flow::Stopped;
            }
        }
    }

    /// The end of a `repeat` body: back to its start while iterations remain.
    #[inline(always)]
    pub(super) fn end_loop(&mut self, p: u32, start: u32) {
        self.end_loop_known(p, start, false);
    }

    /// [`Kernel::end_loop`], told whether the loop is the outermost of its program
    /// ([`Quick::EndLoop`]).
    #[inline(always)]
    pub(super) fn end_loop_known(&mut self, p: u32, start: u32, outermost: bool) {
        end_loop_of(
            &mut self.hot[p as usize],
            &mut self.procs[p as usize],
            start,
            outermost,
        );
    }

    pub(super) fn advance_pc(&mut self, p: u32) {
        self.hot[p as usize].pc += 1;
    }
}

/// The start of a `repeat` of `times` iterations that no other `repeat` of its program
/// encloses, its body ending before `end`, for the process of record `hot`: what
/// `process::step` does for an `Op::Loop` through `Host::enter_loop` and `Host::jump`,
/// knowing that no outer count runs (an outermost loop starts where none does: an inner
/// loop's end gives the outer count back, an outermost loop's end leaves none), so there is
/// none to save.
#[inline(always)]
pub(super) fn enter_outermost_loop(hot: &mut super::pcb::Hot, times: u64, end: u32) {
    if times == 0 {
        hot.pc = end;
    } else {
        debug_assert_eq!(hot.loop_left, 0, "an outermost loop starts inside another");
        hot.loop_left = times;
        hot.pc += 1;
    }
}

/// The end of a `repeat` body whose start is `start`, for the process of records `hot` and
/// `pcb`: back to its start while iterations remain, else on past it with the enclosing
/// loop's count ([`Kernel::end_loop`], and round robin's lean loop, `fast/lean.rs`).
///
/// When the loop is the `outermost` of its program, no loop enclosed it when it began, so
/// [`super::host`]'s `enter_loop` saved no count for it, and what its inner loops saved they
/// took back at their ends: there is nothing to take back, and the process's cold record
/// (`pcb`, at 10^5 processes rarely in the cache) is not read. The general path (a named
/// count, `Host::end_loop`) reads it always, and the tests that run every scenario with the
/// fast paths on and off compare the two.
#[inline(always)]
pub(super) fn end_loop_of(
    hot: &mut super::pcb::Hot,
    pcb: &mut super::pcb::Pcb,
    start: u32,
    outermost: bool,
) {
    if hot.loop_left > 1 {
        hot.loop_left -= 1;
        hot.pc = start + 1;
    } else {
        hot.pc += 1;
        hot.loop_left = if outermost {
            debug_assert!(pcb.cold.as_ref().is_none_or(|c| c.loops.is_empty()));
            0
        } else {
            pcb.cold.as_mut().and_then(|c| c.loops.pop()).unwrap_or(0)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only an unnamed `repeat` that no other encloses starts (with a literal count) and ends
    /// without the process's cold record; a nested one, or one whose count has a name, goes
    /// the general way.
    #[test]
    fn only_outermost_unnamed_repeats_skip_the_cold_record() {
        let plan = crate::load_str(
            r#"{"programs": {"main": {"body": [
                {"repeat": {"times": 2, "body": [{"repeat": {"times": 3, "body": [{"cpu": 1}]}}]}},
                {"repeat": {"times": 0, "body": [{"cpu": 1}]}},
                {"repeat": {"times": 2, "as": "i", "body": [
                    {"repeat": {"times": 2, "body": [{"cpu": 1}]}}]}}
            ]}}, "processes": [{"program": "main"}]}"#,
        )
        .expect("a valid scenario");
        let decoded = decode_programs(&plan.programs);
        let main = &decoded[0];
        let end_loop = |start, outermost| Quick::EndLoop { start, outermost };
        let expected = [
            Quick::EnterLoop { times: 2, end: 5 },
            Quick::Other,
            Quick::Cpu(1),
            end_loop(1, false),
            end_loop(0, true),
            Quick::EnterLoop { times: 0, end: 8 },
            Quick::Cpu(1),
            end_loop(5, true),
            Quick::Other,
            Quick::Other,
            Quick::Cpu(1),
            end_loop(9, false),
            Quick::Other,
        ];
        assert_eq!(&main[..], &expected[..]);
    }
}
