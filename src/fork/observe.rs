//! Watching real processes: the clocks every process of a run shares, what the scheduler
//! counted (`/proc/<pid>/schedstat`: time on a CPU, time waiting on a run queue, timeslices),
//! and the two ways a process spends time: burning CPU and sleeping.
//!
//! `/proc/<pid>/stat` says `R` for running *and* for ready; schedstat tells them apart. A
//! process reads its own schedstat before it blocks and after it wakes: the growth of the
//! run-queue delay is how long it was `ready` between its wake-up and its dispatch. During a
//! `cpu` burst it compares wall time with its thread CPU clock; a gap that the timeslice count
//! confirms is a preemption (`running → ready → running`).

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;

use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, ClockNanosleepFlags, clock_nanosleep};

use std::io::Write as _;

use super::protocol::{Figures, Status};

/// Nanoseconds of `CLOCK_MONOTONIC`, the clock every process of a run shares.
pub fn mono_ns() -> u64 {
    clock_ns(ClockId::CLOCK_MONOTONIC)
}

/// Nanoseconds of CPU time the calling thread has used. This clock does not advance while
/// the thread waits on a run queue, so a burst measured with it is not shortened by
/// preemption.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(ClockId::CLOCK_THREAD_CPUTIME_ID)
}

/// `clock_gettime` called straight, inlined: every forked child reads the clock first
/// thing, and a wrapper of its own would be one more page of code to fault in per child.
#[inline(always)]
fn clock_ns(id: ClockId) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    if unsafe { libc::clock_gettime(id.as_raw(), &mut ts) } != 0 {
        // Both clocks exist on every Linux procsim runs on; a failure reads as time 0.
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The three figures of `/proc/<pid>/schedstat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedStat {
    /// Nanoseconds on a CPU.
    pub cpu_ns: u64,
    /// Nanoseconds runnable but waiting for a CPU.
    pub wait_ns: u64,
    /// Timeslices: times the task was put on a CPU.
    pub slices: u64,
}

/// Parses `/proc/<pid>/schedstat` (`"cpu wait slices\n"`).
///
/// ```
/// let s = procsim::fork::observe::parse_schedstat("29967171 19276958 6\n").unwrap();
/// assert_eq!((s.cpu_ns, s.wait_ns, s.slices), (29967171, 19276958, 6));
/// ```
pub fn parse_schedstat(text: &str) -> Option<SchedStat> {
    let mut it = text.split_ascii_whitespace().map(|x| x.parse::<u64>().ok());
    Some(SchedStat {
        cpu_ns: it.next()??,
        wait_ns: it.next()??,
        slices: it.next()??,
    })
}

/// The calling thread's own schedstat, opened on first use (a process that never blocks or
/// computes never pays for it) and then kept open, so each read is one `pread`.
pub struct SelfStat {
    file: std::cell::OnceCell<Option<File>>,
}

impl SelfStat {
    /// Not opened yet.
    pub fn lazy() -> SelfStat {
        SelfStat {
            file: std::cell::OnceCell::new(),
        }
    }

    /// The figures now (zeros where this kernel has no schedstat: the report then has no
    /// ready/running split).
    pub fn read(&self) -> SchedStat {
        let file = self
            .file
            .get_or_init(|| File::open("/proc/thread-self/schedstat").ok());
        let mut buf = [0u8; 96];
        let Some(f) = file else {
            return SchedStat::default();
        };
        match f.read_at(&mut buf, 0) {
            Ok(n) => std::str::from_utf8(&buf[..n])
                .ok()
                .and_then(parse_schedstat)
                .unwrap_or_default(),
            Err(_) => SchedStat::default(),
        }
    }
}

/// The schedstat of process `pid`, which must be a zombie child the caller has not reaped
/// yet (so the pid cannot belong to anyone else).
pub fn zombie_schedstat(pid: i32) -> Option<SchedStat> {
    let mut path = [0u8; 40];
    let mut w = &mut path[..];
    write!(w, "/proc/{pid}/schedstat\0").ok()?;
    let path = std::ffi::CStr::from_bytes_until_nul(&path).ok()?;
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 96];
    // SAFETY: reading into a buffer we own, from the descriptor just opened.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    if n <= 0 {
        return None;
    }
    std::str::from_utf8(&buf[..n as usize])
        .ok()
        .and_then(parse_schedstat)
}

/// What the kernel counted so far for thread `tid` of the calling process, read from
/// `/proc/self/task/<tid>/` (`schedstat`, and `nonvoluntary_ctxt_switches` in `status`):
/// the figures of a thread that is about to end with its process.
pub fn task_figures(tid: u32) -> Option<Figures> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let s = parse_schedstat(&stat)?;
    let status =
        std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap_or_default();
    let preempted = status
        .lines()
        .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some(Figures {
        cpu_ns: s.cpu_ns,
        wait_ns: s.wait_ns,
        slices: s.slices,
        preempted,
    })
}

/// Reaps child `pid` (which has ended, and which only the caller may reap) with `wait4`,
/// whose resource usage gives its involuntary context switches: how often it was preempted.
pub fn reap_with_usage(pid: i32) -> (Option<Status>, u64) {
    if pid <= 0 {
        // 0 and -1 would wait for other processes than the one meant.
        return (None, 0);
    }
    let mut status = 0;
    // SAFETY: rusage is plain data that the kernel fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to our own locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return (None, 0);
    }
    let st = if libc::WIFEXITED(status) {
        Some(Status::Exited(libc::WEXITSTATUS(status)))
    } else if libc::WIFSIGNALED(status) {
        Some(Status::Signaled(libc::WTERMSIG(status)))
    } else {
        None
    };
    (st, usage.ru_nivcsw as u64)
}

/// What the kernel counted for `pid`, an ended child of the caller that it has not reaped
/// yet, then reaps it: how it ended, and its figures.
pub fn reap_zombie(pid: i32) -> (Option<Status>, Option<Figures>) {
    let stat = zombie_schedstat(pid);
    let (status, preempted) = reap_with_usage(pid);
    let figures = stat.map(|s| Figures {
        cpu_ns: s.cpu_ns,
        wait_ns: s.wait_ns,
        slices: s.slices,
        preempted,
    });
    (status, figures)
}

/// A gap between wall time and CPU time longer than this is worth a look at schedstat: timer
/// interrupts and a hypervisor's steal are shorter, a lost timeslice is longer.
const GAP_NS: u64 = 30_000;
/// How often a burst checks `stop` (wall time).
const CHECK_EVERY_NS: u64 = 1_000_000;

/// Burns `ns` nanoseconds of the calling thread's CPU time. Each time the thread lost the
/// CPU while it could still run, `on_preempt(off_ns, back_ns)` is told when (monotonic
/// nanoseconds). `stop` is asked about once a millisecond; when it says true the burst ends
/// early and `false` is returned.
pub fn burn(
    ns: u64,
    stat: &SelfStat,
    mut on_preempt: impl FnMut(u64, u64),
    mut stop: impl FnMut() -> bool,
) -> bool {
    let start = thread_cpu_ns();
    let target = start.saturating_add(ns);
    let (mut prev_c, mut prev_w) = (start, mono_ns());
    let mut last = stat.read();
    let mut next_check = prev_w + CHECK_EVERY_NS;
    let mut x = 0u64;
    loop {
        // A little arithmetic between samples; the clock reads are most of the cost anyway.
        for i in 0..64u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        let c = thread_cpu_ns();
        let w = mono_ns();
        if c >= target {
            return true;
        }
        let gap = (w - prev_w).saturating_sub(c - prev_c);
        if gap > GAP_NS {
            let now = stat.read();
            if now.slices > last.slices {
                let waited = now.wait_ns.saturating_sub(last.wait_ns).min(w - prev_w);
                on_preempt(w - waited, w);
            }
            last = now;
        }
        if w >= next_check {
            if stop() {
                return false;
            }
            next_check = w + CHECK_EVERY_NS;
        }
        prev_c = c;
        prev_w = w;
    }
}

/// Sleeps until `deadline_ns` (monotonic). With a `lifeline`, wakes early and returns false
/// when the lifeline reports a hang-up or data (the supervisor is gone or wants the run
/// stopped).
pub fn sleep_until(deadline_ns: u64, lifeline: Option<&impl AsFd>) -> bool {
    loop {
        let now = mono_ns();
        if now >= deadline_ns {
            return true;
        }
        match lifeline {
            Some(fd) => {
                let left = deadline_ns - now;
                let ts =
                    TimeSpec::new((left / 1_000_000_000) as i64, (left % 1_000_000_000) as i64);
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                if let Ok(n) = ppoll(&mut fds, Some(ts), None)
                    && n > 0
                {
                    return false;
                }
            }
            None => {
                let ts = TimeSpec::new(
                    (deadline_ns / 1_000_000_000) as i64,
                    (deadline_ns % 1_000_000_000) as i64,
                );
                // EINTR: go round and sleep what is left.
                let _ = clock_nanosleep(
                    ClockId::CLOCK_MONOTONIC,
                    ClockNanosleepFlags::TIMER_ABSTIME,
                    &ts,
                );
            }
        }
    }
}

/// Whether `fd` is readable or hung up now (a lifeline pipe whose writer has gone).
pub fn signalled(fd: &impl AsFd) -> bool {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO), Ok(n) if n > 0)
}

/// `io::Error` from a nix errno, for the supervisor's messages.
pub fn io_err(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_parses_and_rejects() {
        assert!(parse_schedstat("1 2").is_none());
        assert!(parse_schedstat("a b c").is_none());
        assert_eq!(parse_schedstat("1 2 3").unwrap().slices, 3);
    }

    #[test]
    fn burn_uses_cpu_time_and_sleep_waits() {
        let stat = SelfStat::lazy();
        let c0 = thread_cpu_ns();
        assert!(burn(2_000_000, &stat, |_, _| {}, || false));
        assert!(thread_cpu_ns() - c0 >= 2_000_000);
        let t0 = mono_ns();
        assert!(sleep_until(t0 + 1_000_000, None::<&std::fs::File>));
        assert!(mono_ns() - t0 >= 1_000_000);
    }
}
