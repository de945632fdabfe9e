//! An allocation that fails in a process of a fork run, under its `RLIMIT_AS` (the memory
//! fence): one line on stderr that names the limit, then SIGABRT, as before. Rust's own handler
//! would print `memory allocation of N bytes failed` and, under `RUST_BACKTRACE`, a backtrace
//! that cannot be made without memory; neither tells a user which fence acted.
//!
//! [`FencedAlloc`] is the system allocator with that one check on a failure: the `procsim`
//! binary installs it as its global allocator. Until [`fenced`] is called (in a process of the
//! run, right after it takes its limit) it returns a failure to the caller as the system
//! allocator does, so the CLI, the supervisor and `try_reserve` everywhere else are unchanged.
//! In a fenced process a failed allocation ends the process, even a fallible one: under its
//! fence, a process that cannot allocate is done.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// The `RLIMIT_AS` of this process, in bytes, once it is a fenced process of a run (0 before).
/// Copied into every child by its fork.
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// Marks this process as a process of a fork run under an `RLIMIT_AS` of `limit` bytes.
pub fn fenced(limit: u64) {
    LIMIT.store(limit, Ordering::Relaxed);
}

/// The system allocator, whose failures in a fenced process end it with one clear line.
#[derive(Debug, Clone, Copy, Default)]
pub struct FencedAlloc;

// SAFETY: every call is passed to `System` with the caller's arguments unchanged; only a null
// result (a failure) is looked at.
unsafe impl GlobalAlloc for FencedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is `System`'s.
        checked(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed` is `System`'s.
        checked(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
        checked(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}

#[inline(always)]
fn checked(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        let limit = LIMIT.load(Ordering::Relaxed);
        if limit != 0 {
            out_of_memory(size, limit);
        }
    }
    ptr
}

/// Says so on stderr, without allocating, and aborts (SIGABRT, which the supervisor reports as
/// the memory fence acting).
#[cold]
#[inline(never)]
fn out_of_memory(size: usize, limit: u64) -> ! {
    let mut line = [0u8; 160];
    let mut n = 0;
    for part in [
        Part::Text("procsim: a process of the run ran out of memory: an allocation of "),
        Part::Number(size as u64),
        Part::Text(" bytes failed under its memory fence (RLIMIT_AS of "),
        Part::Number(limit >> 20),
        Part::Text(" MiB; --memory sets it)\n"),
    ] {
        n = part.write(&mut line, n);
    }
    // SAFETY: writes the first `n` bytes of a live buffer to fd 2; a failure changes nothing.
    unsafe {
        libc::write(2, line.as_ptr().cast(), n);
    }
    std::process::abort()
}

enum Part {
    Text(&'static str),
    Number(u64),
}

impl Part {
    /// Copies itself into `buf` from `at` (what does not fit is cut); returns the new end.
    fn write(&self, buf: &mut [u8], at: usize) -> usize {
        let mut digits = [0u8; 20];
        let bytes: &[u8] = match self {
            Part::Text(t) => t.as_bytes(),
            Part::Number(v) => {
                let mut v = *v;
                let mut i = digits.len();
                loop {
                    i -= 1;
                    digits[i] = b'0' + (v % 10) as u8;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                &digits[i..]
            }
        };
        let end = (at + bytes.len()).min(buf.len());
        buf[at..end].copy_from_slice(&bytes[..end - at]);
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_make_one_line_without_allocating() {
        let mut buf = [0u8; 40];
        let mut n = Part::Text("a ").write(&mut buf, 0);
        n = Part::Number(524_288).write(&mut buf, n);
        n = Part::Number(0).write(&mut buf, n);
        assert_eq!(&buf[..n], b"a 5242880");
        let n = Part::Text("x".repeat(50).leak()).write(&mut buf, 0);
        assert_eq!(n, 40);
    }
}
