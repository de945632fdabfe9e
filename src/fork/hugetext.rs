//! The binary's code and read-only data, copied into anonymous huge pages in a process that
//! forks often.
//!
//! Why: code is a private file mapping, and `fork` copies no page-table entries for such a
//! mapping (it has no anonymous pages), so every child faults in again each 64 KiB window of
//! code and constants it runs: about twelve of a child's 39 faults in 500 children forked and
//! joined one at a time. Anonymous memory's entries are copied at fork, and a 2 MiB huge page
//! is one entry: the children of a process whose code lies in huge pages run it without a
//! fault, and the fork copies five entries more. (Giving the file mapping anonymous pages so
//! that fork copies its 4 KiB entries cost more at each fork and exit than the faults it
//! saved: BENCHMARKS.md, "the text's page-table entries copied at fork".)
//!
//! How: the linker aligns the binary's segments to 2 MiB (`build.rs`), so the code and the
//! read-only data each lie alone in whole 2 MiB blocks. A mapping that does is copied into
//! fresh anonymous memory that asks for huge pages, given the mapping's protection and moved
//! over it with one `mremap`: the same bytes at the same addresses. A mapping that does not
//! (another linker, a dynamic build), or a kernel that gives no huge pages (the copy would be
//! 4 KiB pages, whose entries cost at every fork), moves nothing.
//!
//! When: the copy costs about 4 ms of CPU (zeroing and filling 10 MiB) and 10 MiB of memory,
//! once a process tree, shared by the children (none writes it). A child saves about 36 µs,
//! so a process makes the copy at its [`AFTER_FORKS`]th fork, and only while it runs one
//! thread. Its children inherit the copy and never make another. `PROCSIM_NO_HUGE_TEXT` in
//! the environment turns it off (a profiler names no function in anonymous code).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The fork of a process at which its code moves. A process forking fewer pays nothing; one
/// forking about 110 more children than this has saved what the copy cost.
pub(super) const AFTER_FORKS: u32 = 32;

/// The huge page size the copy works in.
const HUGE: usize = 2 << 20;

/// Set once the code has moved (or could not), in this process and so in its children.
static DONE: AtomicBool = AtomicBool::new(false);

/// Forks made so far by the process [`COUNTER`] names (a child starts from none).
static FORKS: AtomicU32 = AtomicU32::new(0);
/// The pid whose forks [`FORKS`] counts.
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Called before each fork of the supervisor and of a scenario process: the
/// [`AFTER_FORKS`]th of a process moves the code, if the process runs one thread then.
pub(super) fn before_fork() {
    if DONE.load(Ordering::Relaxed) {
        return;
    }
    let me = std::process::id();
    if COUNTER.swap(me, Ordering::Relaxed) != me {
        FORKS.store(0, Ordering::Relaxed);
    }
    let n = FORKS.fetch_add(1, Ordering::Relaxed) + 1;
    if n == AFTER_FORKS && threads() == Some(1) {
        move_code_to_huge_pages();
    }
}

/// How many threads this process runs, from `/proc/self/status`.
fn threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:")?.trim().parse().ok())
}

/// Moves the binary's code and read-only data into anonymous huge pages, once a process
/// tree. Returns how many bytes of mappings moved (0 if none or already done). Call only
/// while the process runs one thread.
pub(super) fn move_code_to_huge_pages() -> usize {
    if DONE.swap(true, Ordering::Relaxed) {
        return 0;
    }
    if std::env::var_os("PROCSIM_NO_HUGE_TEXT").is_some() || !huge_pages_on() {
        return 0;
    }
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let maps = parse_maps(&maps);
    // The code (this function) and the read-only data (a constant's bytes).
    let code = move_code_to_huge_pages as *const () as usize;
    let data = std::hint::black_box(READ_ONLY.as_ptr()) as usize;
    let mut moved = 0;
    for addr in [code, data] {
        let Some(m) = maps.iter().find(|m| m.lo <= addr && addr < m.hi) else {
            continue;
        };
        let Some((start, end)) = alone_in_blocks(m, &maps) else {
            continue;
        };
        // SAFETY: `alone_in_blocks` gives the 2 MiB blocks around a read-only mapping that
        // hold no other mapping; the caller runs one thread.
        if unsafe { move_blocks(start, end, m) } {
            moved += m.hi - m.lo;
        }
    }
    moved
}

/// A constant in the read-only data, to find its mapping by.
static READ_ONLY: [u8; 4] = *b"text";

/// One line of `/proc/self/maps`.
struct Mapping {
    lo: usize,
    hi: usize,
    /// `r-xp` or `r--p` and the like.
    prot: libc::c_int,
    private: bool,
}

fn parse_maps(maps: &str) -> Vec<Mapping> {
    maps.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (lo, hi) = f.next()?.split_once('-')?;
            let perms = f.next()?.as_bytes();
            let mut prot = 0;
            if perms.first() == Some(&b'r') {
                prot |= libc::PROT_READ;
            }
            if perms.get(1) == Some(&b'w') {
                prot |= libc::PROT_WRITE;
            }
            if perms.get(2) == Some(&b'x') {
                prot |= libc::PROT_EXEC;
            }
            Some(Mapping {
                lo: usize::from_str_radix(lo, 16).ok()?,
                hi: usize::from_str_radix(hi, 16).ok()?,
                prot,
                private: perms.get(3) == Some(&b'p'),
            })
        })
        .collect()
}

/// The 2 MiB blocks that cover `m`, if `m` is private and not writable and no other mapping
/// lies in them (the linker's 2 MiB segment alignment, `build.rs`, leaves them so).
fn alone_in_blocks(m: &Mapping, maps: &[Mapping]) -> Option<(usize, usize)> {
    if !m.private || m.prot & libc::PROT_WRITE != 0 {
        return None;
    }
    let start = m.lo & !(HUGE - 1);
    let end = m.hi.checked_next_multiple_of(HUGE)?;
    let alone = maps
        .iter()
        .all(|o| o.lo == m.lo || o.hi <= start || o.lo >= end);
    alone.then_some((start, end))
}

/// Whether the kernel hands out transparent huge pages to a mapping that asks for them.
fn huge_pages_on() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .map(|s| s.contains("[always]") || s.contains("[madvise]"))
        .unwrap_or(false)
}

/// Copies mapping `m` into fresh anonymous huge pages covering `[start, end)` (zeros
/// around it) and moves them over it, with `m`'s protection.
///
/// # Safety
/// `start` and `end` are multiples of [`HUGE`] around `m`, no other mapping lies between
/// them, `m` is readable, and no other thread runs (code it is running would be replaced
/// under it; the calling thread sees the same bytes at the same addresses before and after
/// the `mremap`).
unsafe fn move_blocks(start: usize, end: usize, m: &Mapping) -> bool {
    let len = end - start;
    // Room for `len` at a 2 MiB boundary.
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let raw = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len + HUGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return false;
    }
    let raw = raw as usize;
    let dst = raw.next_multiple_of(HUGE);
    // SAFETY: unmapping the unaligned head and tail of the fresh mapping above, which
    // nothing refers to.
    unsafe {
        if dst > raw {
            libc::munmap(raw as *mut libc::c_void, dst - raw);
        }
        let tail = raw + len + HUGE - (dst + len);
        if tail > 0 {
            libc::munmap((dst + len) as *mut libc::c_void, tail);
        }
    }
    let fail = || {
        // SAFETY: the aligned fresh mapping, nothing refers to it.
        unsafe { libc::munmap(dst as *mut libc::c_void, len) };
        false
    };
    // SAFETY: advice on the fresh mapping.
    if unsafe { libc::madvise(dst as *mut libc::c_void, len, libc::MADV_HUGEPAGE) } != 0 {
        return fail();
    }
    // SAFETY: the source is the readable mapping `m`, the destination the fresh writable
    // mapping of `len` bytes at the same offset from `start`; they do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            m.lo as *const u8,
            (dst + (m.lo - start)) as *mut u8,
            m.hi - m.lo,
        )
    };
    if !all_huge(dst, len) {
        return fail();
    }
    // SAFETY: the fresh mapping holds a copy of `m`; it takes `m`'s protection.
    if unsafe { libc::mprotect(dst as *mut libc::c_void, len, m.prot) } != 0 {
        return fail();
    }
    // SAFETY: replaces [start, end), which holds `m` alone, with a byte-for-byte copy of it
    // in one system call; the only thread (the caller's contract) resumes at the same
    // address in the same bytes.
    let moved = unsafe {
        libc::mremap(
            dst as *mut libc::c_void,
            len,
            len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            start as *mut libc::c_void,
        )
    };
    if moved == libc::MAP_FAILED {
        return fail();
    }
    true
}

/// Whether `[addr, addr + len)` is all in anonymous huge pages, from `/proc/self/smaps`'s
/// `AnonHugePages` of the mapping that starts at `addr`.
fn all_huge(addr: usize, len: usize) -> bool {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return false;
    };
    let head = format!("{addr:x}-");
    let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
    if lines.next().is_none() {
        return false;
    }
    // A mapping's fields start with a capital (`Size:`, `AnonHugePages:`); the next
    // mapping's line with a hex digit.
    lines
        .take_while(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .is_some_and(|kb| kb * 1024 >= len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
555555400000-555555577000 r--p 00000000 fd:00 12 /bin/procsim
555555600000-555555c54000 r-xp 00200000 fd:00 12 /bin/procsim
555555e00000-555555e1f000 r--p 00a00000 fd:00 12 /bin/procsim
555555e1f000-555555e20000 rw-p 00a1f000 fd:00 12 /bin/procsim
555556000000-555556021000 rw-p 00000000 00:00 0 [heap]
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
";

    #[test]
    fn a_read_only_mapping_alone_in_its_blocks_moves_and_others_do_not() {
        let maps = parse_maps(MAPS);
        assert_eq!(maps.len(), 6);
        let (rodata, code, relro, data) = (&maps[0], &maps[1], &maps[2], &maps[3]);
        assert_eq!(code.prot, libc::PROT_READ | libc::PROT_EXEC);
        assert!(code.private);
        // The code: three blocks, nothing else in them.
        assert_eq!(
            alone_in_blocks(code, &maps),
            Some((0x5555_5560_0000, 0x5555_55c0_0000 + HUGE))
        );
        // The read-only data at the start: one block.
        assert_eq!(
            alone_in_blocks(rodata, &maps),
            Some((0x5555_5540_0000, 0x5555_5560_0000))
        );
        // The relocated data shares its block with the writable data; the writable data
        // never moves.
        assert_eq!(alone_in_blocks(relro, &maps), None);
        assert_eq!(alone_in_blocks(data, &maps), None);
    }

    #[test]
    fn code_next_to_other_mappings_in_its_blocks_stays() {
        // An unaligned link: the data starts right after the code.
        let maps = parse_maps(
            "555555579000-555555bd0000 r-xp 00178000 fd:00 12 /bin/procsim\n\
             555555bd0000-555555bf1000 r--p 007cf000 fd:00 12 /bin/procsim\n",
        );
        assert_eq!(alone_in_blocks(&maps[0], &maps), None);
        // A shared mapping never moves.
        let shared = parse_maps("555555600000-555555800000 r-xs 00000000 fd:00 12 /x\n");
        assert_eq!(alone_in_blocks(&shared[0], &shared), None);
    }
}
