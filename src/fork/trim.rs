//! What a top-level process gives back, right after the supervisor's fork, of the memory it
//! inherited and will never use again.
//!
//! Why: a process that forks pays, at every fork and at every child's exit, for each page of
//! anonymous memory it has resident (the child's page-table entries are copied, then torn
//! down) and for each mapping (duplicated, then unmapped). A top-level process inherits the
//! supervisor's: freed heap blocks still resident, the event channel's 1 MiB receive buffer
//! (a mapping of its own), the output buffer, and its stack as deep as the supervisor went.
//! On the bare C loop (`python3 benches/fork_loop_weight.py 15`, 2-CPU machine at load 6,
//! medians of 15 alternated rounds) 120 more resident anonymous pages cost 11 % more CPU time
//! a child, 15 more mappings 11 %, and 8 pages written after each fork 22 %.
//!
//! Only memory nothing reads again goes: the stack below the caller's frame (by the ABI
//! nothing lives below the stack pointer but the running function's 128-byte red zone, and two
//! pages are kept under it), and heap blocks already freed (`malloc_trim`). The supervisor's
//! buffers are freed by their owners ([`super::channel::Receiver::free_buffer`]).

/// Gives back the freed heap and the stack below the caller's frame. Returns how many bytes
/// of stack it discarded (0 when it could not find the stack), for the tests.
pub(super) fn give_back_inherited() -> usize {
    // The stack first: it reads /proc/self/maps into a heap buffer, which the trim then
    // gives back with the rest of the freed heap.
    let trimmed = trim_stack();
    // SAFETY: malloc_trim only returns free memory of the allocator to the kernel; no live
    // block moves or changes.
    unsafe {
        libc::malloc_trim(0);
    }
    trimmed
}

/// Discards the pages of the calling thread's stack below the caller's frame, minus two
/// pages. They fill with zeros if the process goes that deep again, as fresh stack does.
#[inline(never)]
fn trim_stack() -> usize {
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    let Some(low) = mapping_start(sp) else {
        return 0;
    };
    // SAFETY: sysconf only reads a system setting.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let Ok(page) = usize::try_from(page) else {
        return 0;
    };
    if !page.is_power_of_two() {
        return 0;
    }
    // Round down to a page (madvise would round the length up), then keep two more pages
    // below: this frame's own locals lie below `here`, and the functions called from here,
    // madvise's wrapper included, run below them.
    let end = (sp & !(page - 1)).saturating_sub(2 * page);
    if end <= low {
        return 0;
    }
    // SAFETY: [low, end) lies in the mapping of this thread's stack, more than a page below
    // the stack pointer: by the ABI no live data is there (only the running function may
    // use the 128 bytes below the stack pointer). MADV_DONTNEED on private anonymous memory
    // makes later reads see zeros, as on a fresh stack page.
    let r = unsafe { libc::madvise(low as *mut libc::c_void, end - low, libc::MADV_DONTNEED) };
    if r == 0 { end - low } else { 0 }
}

/// The lowest address of the mapping that holds `addr` (for a stack address: the main
/// thread's `[stack]`, or a thread's stack, whose guard page is a mapping of its own and
/// whose thread data glibc keeps at its top, above the stack pointer), from
/// `/proc/self/maps`.
fn mapping_start(addr: usize) -> Option<usize> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let (lo, hi) = l.split_whitespace().next()?.split_once('-')?;
        let lo = usize::from_str_radix(lo, 16).ok()?;
        let hi = usize::from_str_radix(hi, 16).ok()?;
        (lo <= addr && addr < hi).then_some(lo)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a forked child (so the test harness's own stack is untouched): the stack below the
    /// caller is discarded, and what the caller holds is intact.
    #[test]
    fn trims_below_the_caller_and_keeps_the_caller() {
        // SAFETY: the child only calls async-signal-safe-enough code of its own and _exits;
        // it never returns into the harness.
        match unsafe { nix::unistd::fork() } {
            Ok(nix::unistd::ForkResult::Child) => {
                let kept = std::hint::black_box([7u8; 512]);
                deep(64);
                let freed = give_back_inherited();
                let ok = freed > 0 && kept.iter().all(|b| *b == 7) && deep(64) == 64 * 64;
                // SAFETY: ends the forked child without running the harness's clean-up.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => {
                let st = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(st, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
            Err(e) => panic!("fork: {e}"),
        }
    }

    /// Uses about 64 bytes of stack (plus a frame) a level, so the trim has something to take.
    #[inline(never)]
    fn deep(n: u32) -> u32 {
        let pad = std::hint::black_box([1u8; 64]);
        if n == 0 {
            0
        } else {
            pad.iter().map(|b| *b as u32).sum::<u32>() + deep(n - 1)
        }
    }
}
