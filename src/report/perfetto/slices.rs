//! The slices of the Perfetto file, kept in a compact record until the file is written in
//! track order, and the process names they are written with.

use std::io;

use super::super::spans::{CpuSpan, CpuWork, Phase, Piece, ProcSpan};
use super::super::spill::{Record, Sorter, Texts};
use crate::model::Cause;

/// A slice of a track, kept until the file is written in track order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slice {
    /// Lane kind (0 a CPU, 1 a process) in bits 96…, the lane, then the order it came in.
    pub(super) key: u128,
    pub(super) start: u64,
    pub(super) end: u64,
    /// The process (of a CPU slice), or the CPU or the cause's number (of a process slice).
    pub(super) who: u32,
    /// What: [`CpuWork`] or [`Phase`] by number.
    pub(super) tag: u8,
}

impl Record for Slice {
    const SIZE: usize = 37;
    fn key(&self) -> u128 {
        self.key
    }
    fn encode(&self, out: &mut [u8]) {
        out[..16].copy_from_slice(&self.key.to_le_bytes());
        out[16..24].copy_from_slice(&self.start.to_le_bytes());
        out[24..32].copy_from_slice(&self.end.to_le_bytes());
        out[32..36].copy_from_slice(&self.who.to_le_bytes());
        out[36] = self.tag;
    }
    fn decode(b: &[u8]) -> Self {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        Slice {
            key: u128::from_le_bytes(b[..16].try_into().unwrap_or_default()),
            start: u64_at(16),
            end: u64_at(24),
            who: u32::from_le_bytes(b[32..36].try_into().unwrap_or_default()),
            tag: b[36],
        }
    }
}

pub(super) const CPU_LANE: u128 = 0;
pub(super) const PROC_LANE: u128 = 1;
/// A thread's lane (SPEC §4a), after the processes'.
pub(super) const THREAD_LANE: u128 = 2;

pub(super) fn slice_key(kind: u128, lane: u32, seq: u64) -> u128 {
    (kind << 96) | (u128::from(lane) << 64) | u128::from(seq)
}

pub(super) fn phase_slice(key: u128, span: ProcSpan) -> Slice {
    let (tag, who) = match span.phase {
        Phase::New => (0, 0),
        Phase::Ready => (1, 0),
        Phase::Running { cpu } => (2, cpu),
        Phase::Blocked { cause } => (
            3,
            Cause::ALL.iter().position(|&c| c == cause).unwrap_or(0) as u32,
        ),
        Phase::Zombie => (4, 0),
    };
    Slice {
        key,
        start: span.start,
        end: span.end,
        who,
        tag,
    }
}

pub(super) fn slice_phase(s: &Slice) -> Phase {
    match s.tag {
        0 => Phase::New,
        1 => Phase::Ready,
        2 => Phase::Running { cpu: s.who },
        3 => Phase::Blocked {
            cause: Cause::ALL.get(s.who as usize).copied().unwrap_or(Cause::Io),
        },
        _ => Phase::Zombie,
    }
}

/// Every process's name and pid, for the slices written at the end: the names packed in
/// memory up to a budget, past it in a temporary file ([`Texts`]).
#[derive(Debug)]
pub(super) struct Names {
    texts: Texts,
    pids: Vec<u32>,
}

impl Names {
    /// Room for `budget` bytes of names in memory.
    pub(super) fn new(budget: usize) -> Names {
        Names {
            texts: Texts::new(budget),
            pids: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, name: &str, pid: u32) -> io::Result<()> {
        self.pids.push(pid);
        self.texts.push(name)
    }

    pub(super) fn get(&mut self, i: usize) -> io::Result<(&str, u32)> {
        let pid = self.pids[i];
        Ok((self.texts.get(i)?, pid))
    }
}

/// Files a piece of the intervals: a slice under its track, or the end of a `new` phase.
pub(super) fn put_piece(
    slices: &mut Sorter<Slice>,
    next: &mut u64,
    first: &mut Vec<u64>,
    piece: Piece,
) -> io::Result<()> {
    let mut key = |kind, lane| {
        let k = slice_key(kind, lane, *next);
        *next += 1;
        k
    };
    match piece {
        Piece::New { proc, until } => {
            let i = proc as usize;
            if first.len() <= i {
                first.resize(i + 1, u64::MAX);
            }
            first[i] = until;
            Ok(())
        }
        Piece::Proc(proc, span) => slices.push(phase_slice(key(PROC_LANE, proc), span)),
        Piece::Cpu(cpu, span) => {
            let CpuSpan {
                start,
                end,
                proc,
                work,
            } = span;
            slices.push(Slice {
                key: key(CPU_LANE, cpu),
                start,
                end,
                who: proc,
                tag: match work {
                    CpuWork::Run => 0,
                    CpuWork::Switch => 1,
                },
            })
        }
    }
}
