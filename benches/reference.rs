//! The reference loop for RR-IO-v1: the least a round-robin simulator can do, written as a
//! C programmer would (an array ring as the ready queue, a FIFO of wake-ups, one small struct
//! a process) with nothing general about it. procsim's kernel is measured against it.

use std::collections::VecDeque;

/// RR-IO-v1's shape: 10 bursts of 50 ticks, 20 ticks of I/O between them, quantum 10.
const BURSTS: u32 = 10;
const BURST: u32 = 50;
const IO: u64 = 20;
const QUANTUM: u32 = 10;

#[derive(Clone, Copy)]
struct Proc {
    bursts_left: u32,
    left: u32,
}

/// What the loop computes: the figures RR-IO-v1 is checked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub makespan: u64,
    pub sum_ended_at: u128,
    pub dispatches: u64,
}

/// Runs RR-IO-v1 with `n` processes on one CPU, with procsim's conventions: wake-ups join the
/// queue before a preempted process, and a process alone keeps its CPU without a dispatch.
pub fn rr_io_v1(n: u32) -> Outcome {
    let mut procs = vec![
        Proc {
            bursts_left: BURSTS,
            left: BURST
        };
        n as usize
    ];
    let mut ready: VecDeque<u32> = (0..n).collect();
    let mut io: VecDeque<(u64, u32)> = VecDeque::new();
    let (mut t, mut dispatches, mut sum) = (0u64, 0u64, 0u128);
    let mut current: Option<u32> = None;
    loop {
        let p = match current.take() {
            Some(p) => p,
            None => match ready.pop_front() {
                Some(p) => {
                    dispatches += 1;
                    p
                }
                None => match io.front() {
                    Some(&(wake, _)) => {
                        t = t.max(wake);
                        while let Some(&(w, q)) = io.front() {
                            if w > t {
                                break;
                            }
                            io.pop_front();
                            ready.push_back(q);
                        }
                        continue;
                    }
                    None => break,
                },
            },
        };
        let pr = &mut procs[p as usize];
        let run = pr.left.min(QUANTUM);
        t += u64::from(run);
        pr.left -= run;
        while let Some(&(w, q)) = io.front() {
            if w > t {
                break;
            }
            io.pop_front();
            ready.push_back(q);
        }
        if pr.left == 0 {
            pr.bursts_left -= 1;
            if pr.bursts_left == 0 {
                sum += u128::from(t);
            } else {
                pr.left = BURST;
                io.push_back((t + IO, p));
            }
        } else if ready.is_empty() {
            current = Some(p);
        } else {
            ready.push_back(p);
        }
    }
    Outcome {
        makespan: t,
        sum_ended_at: sum,
        dispatches,
    }
}
