//! A process's next CPU burst, read ahead from its program for the policies that schedule by
//! it (SJF, SRTF, HRRN; SPEC §3a): the `cpu` ticks it will run before it can next block or
//! end, looking through the instructions that take no time.
//!
//! The read-ahead changes nothing: loop counters are copied, no random number is drawn, no
//! argument is bound for good. What it cannot know it estimates, and says so here:
//! - a `cpu` of `{"uniform": [lo, hi]}` counts as the middle of the range, (lo + hi) / 2;
//! - a global is read as it is now, even if a `set` or `add` ahead of the `cpu` changes it;
//! - `join` and `wait` end the burst (they may block), as do `io`/`sleep` of more than 0
//!   ticks, `exit`, `_exit`, `fail` and the end of the program;
//! - it reads at most [`LOOKAHEAD`] instructions, so a long loop of short `cpu`s counts what
//!   that many instructions compute.

use super::{Kernel, Policy};
use crate::model::Value;
use crate::process::bind;
use crate::program::{CExpr, Op};

/// The most instructions one read-ahead goes through.
pub(super) const LOOKAHEAD: u32 = 4096;

impl<P: Policy> Kernel<P> {
    /// The `cpu` ticks `p` will run from where it is before it can next block or end.
    pub(super) fn next_burst(&self, p: u32) -> u64 {
        let hot = &self.hot[p as usize];
        let pcb = &self.procs[p as usize];
        if hot.ending {
            return 0;
        }
        let code = &self.plan.programs[hot.program as usize];
        // Parameters: bound already, or bound here on a copy (an error means it fails at
        // once: no burst).
        let params: Option<Vec<Value>> = if hot.bound {
            None
        } else {
            let (args, kwargs) = pcb
                .cold
                .as_ref()
                .map(|c| (c.args.clone(), c.kwargs.clone()))
                .unwrap_or_default();
            match bind(code, args, kwargs) {
                Ok(v) => Some(v),
                Err(_) => return 0,
            }
        };
        let param = |i: u16| -> Option<Value> {
            match &params {
                Some(v) => v.get(i as usize).cloned(),
                None => pcb.cold.as_ref()?.params.get(i as usize).cloned(),
            }
        };
        let globals = self.globals_of(self.leader(p));
        let value = |e: &CExpr| -> Option<u64> {
            let v = match e {
                CExpr::Lit(v) => v.clone(),
                CExpr::Param(i) => param(*i)?,
                // A thread reads its process's globals.
                CExpr::Global(g) => globals.get(*g as usize)?.clone(),
                // A `repeat` count is not read ahead: the burst ends there.
                CExpr::Counter(_) => return None,
                CExpr::Uniform(lo, hi) => {
                    return u64::try_from((*lo as i128 + *hi as i128) / 2).ok();
                }
            };
            match v {
                Value::Int(i) if i >= 0 => Some(i as u64),
                _ => None,
            }
        };
        // The burst under way, then what follows it.
        let mut total = hot.burst_left;
        let mut pc = hot.pc as usize + usize::from(hot.burst_left > 0);
        let mut loop_left = hot.loop_left;
        let mut outer: Vec<u64> = pcb
            .cold
            .as_ref()
            .map(|c| c.loops.clone())
            .unwrap_or_default();
        for _ in 0..LOOKAHEAD {
            let Some(op) = code.ops.get(pc) else {
                break;
            };
            match op {
                Op::Cpu(e) => {
                    let Some(n) = value(e) else { break };
                    total = total.saturating_add(n);
                    pc += 1;
                }
                Op::Io(e) | Op::Sleep(e) => match value(e) {
                    Some(0) => pc += 1,
                    _ => break,
                },
                Op::Loop { times, end, .. } => match value(times) {
                    Some(0) => pc = *end as usize,
                    Some(n) => {
                        if loop_left > 0 {
                            outer.push(loop_left);
                        }
                        loop_left = n;
                        pc += 1;
                    }
                    None => break,
                },
                Op::EndLoop { start, .. } => {
                    if loop_left > 1 {
                        loop_left -= 1;
                        pc = *start as usize + 1;
                    } else {
                        loop_left = outer.pop().unwrap_or(0);
                        pc += 1;
                    }
                }
                Op::Join(..)
                | Op::Wait(_)
                | Op::Acquire(_)
                | Op::Exit(_)
                | Op::ExitNow(_)
                | Op::Fail(_) => break,
                Op::Spawn { .. }
                | Op::Thread(_)
                | Op::Release(_)
                | Op::Start(_)
                | Op::Signal(..)
                | Op::Assign(..)
                | Op::Print(_)
                | Op::New(..)
                | Op::Drop(_) => pc += 1,
            }
        }
        total
    }
}
