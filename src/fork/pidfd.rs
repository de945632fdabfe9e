//! Children held by pidfd: a file descriptor that names one process for as long as it is
//! open, so a signal or a wait can never reach another process that reused the pid.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};

use super::protocol::Status;

/// A pidfd for `pid`, which must be a child the caller has not reaped (so the pid is still
/// that child's).
pub fn open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Sends signal `sig` to the process.
pub fn send_signal(fd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: pidfd_send_signal with a null siginfo is kill(2) on the pidfd's process.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether the process has ended (a pidfd polls readable then).
pub fn has_ended(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// Waits until one of `fds` has ended and returns its index; returns `None` when `lifeline`
/// (if any) fires first or `timeout_ms` passes.
pub fn wait_any(
    fds: &[BorrowedFd<'_>],
    lifeline: Option<BorrowedFd<'_>>,
    timeout_ms: Option<u16>,
) -> Option<usize> {
    // The descriptors to poll: `fds`, then the lifeline.
    let n = fds.len() + usize::from(lifeline.is_some());
    let source = |i: usize| fds.get(i).copied().or(lifeline);
    // Off the heap for a few (a join polls one pidfd and the lifeline): a `malloc`/`free`
    // pair a wait writes allocator pages that each fork copies again (fork/trim.rs).
    match source(0) {
        Some(first) if n <= FEW => {
            let mut inline: [PollFd<'_>; FEW] =
                std::array::from_fn(|i| PollFd::new(source(i).unwrap_or(first), PollFlags::POLLIN));
            ready_of(&mut inline[..n], fds.len(), timeout_ms)
        }
        _ => {
            let mut heap: Vec<PollFd<'_>> = (0..n)
                .filter_map(source)
                .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
                .collect();
            ready_of(&mut heap, fds.len(), timeout_ms)
        }
    }
}

/// How many descriptors [`wait_any`] polls without a list on the heap: the children a wait
/// watches without one (`lifecycle.rs`), and the lifeline.
const FEW: usize = super::lifecycle::FEW_FDS + 1;

/// Polls `polls` (the first `watched` the children's pidfds, then maybe the lifeline) until
/// one is ready or `timeout_ms` passes; the index of a ready child's.
fn ready_of(polls: &mut [PollFd<'_>], watched: usize, timeout_ms: Option<u16>) -> Option<usize> {
    let timeout = timeout_ms.map_or(PollTimeout::NONE, PollTimeout::from);
    loop {
        match poll(polls, timeout) {
            Ok(0) => return None,
            Ok(_) => {
                let ready = polls.iter().position(|p| {
                    p.revents()
                        .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP))
                })?;
                return (ready < watched).then_some(ready);
            }
            Err(nix::Error::EINTR) => continue,
            Err(_) => return None,
        }
    }
}

/// How the process ended, without reaping it (`None` while it runs).
pub fn peek(fd: BorrowedFd<'_>) -> Option<Status> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    status(waitid(Id::PIDFd(fd.as_fd()), flags).ok()?)
}

/// Reaps the process, which must have ended, and says how it ended.
pub fn reap(fd: BorrowedFd<'_>) -> Option<Status> {
    loop {
        match waitid(Id::PIDFd(fd), WaitPidFlag::WEXITED) {
            Ok(ws) => return status(ws),
            Err(nix::Error::EINTR) => continue,
            Err(_) => return None,
        }
    }
}

/// A wait status as the protocol says it.
pub fn status(ws: WaitStatus) -> Option<Status> {
    match ws {
        WaitStatus::Exited(_, code) => Some(Status::Exited(code)),
        WaitStatus::Signaled(_, sig, _) => Some(Status::Signaled(sig as i32)),
        _ => None,
    }
}
