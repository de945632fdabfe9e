//! [`Few`]: a list of small `Copy` items kept inside its owner while it holds at most `N`, on
//! the heap past that.
//!
//! Why: after every `fork` each page the parent writes is copied (a page fault, a page of
//! memory and its copy) while the child lives. A process that forks and joins writes its
//! lists of live and unstarted children between the fork and the wait, so each list held on
//! the heap is one more page copied per child; kept inside [`super::interp::Proc`], whose
//! page that process writes anyway, they cost nothing more.

use std::ops::{Deref, DerefMut};

/// A list of `Copy` items, inline up to `N`.
#[derive(Debug, Clone)]
pub(super) enum Few<T: Copy + Default, const N: usize> {
    /// Up to `N` items: the first `len` of the array.
    Inline([T; N], usize),
    /// More than `N` items once: they stay on the heap (a process with that many children
    /// at once pays for their list there, as before).
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> Default for Few<T, N> {
    fn default() -> Self {
        Few::Inline([T::default(); N], 0)
    }
}

impl<T: Copy + Default, const N: usize> Deref for Few<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Few::Inline(a, len) => &a[..*len],
            Few::Heap(v) => v,
        }
    }
}

impl<T: Copy + Default, const N: usize> DerefMut for Few<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Few::Inline(a, len) => &mut a[..*len],
            Few::Heap(v) => v,
        }
    }
}

impl<T: Copy + Default, const N: usize> Few<T, N> {
    /// Appends `x`.
    pub(super) fn push(&mut self, x: T) {
        let at = self.len();
        self.insert(at, x);
    }

    /// Inserts `x` at `at` (at most the length), shifting what follows.
    pub(super) fn insert(&mut self, at: usize, x: T) {
        match self {
            Few::Inline(a, len) if *len < N => {
                a.copy_within(at..*len, at + 1);
                a[at] = x;
                *len += 1;
            }
            Few::Inline(a, len) => {
                let mut v = Vec::with_capacity(N * 2);
                v.extend_from_slice(&a[..*len]);
                v.insert(at, x);
                *self = Few::Heap(v);
            }
            Few::Heap(v) => v.insert(at, x),
        }
    }

    /// Keeps the items `keep` says yes to, in order.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match self {
            Few::Inline(a, len) => {
                let mut n = 0;
                for i in 0..*len {
                    if keep(&a[i]) {
                        a[n] = a[i];
                        n += 1;
                    }
                }
                *len = n;
            }
            Few::Heap(v) => v.retain(keep),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Few;

    #[test]
    fn behaves_as_a_vec_inline_and_past_it() {
        let mut f: Few<usize, 3> = Few::default();
        let mut v: Vec<usize> = Vec::new();
        for (i, x) in [5usize, 1, 9, 3, 7, 2, 8].into_iter().enumerate() {
            let at = f.partition_point(|y| *y < x);
            f.insert(at, x);
            v.insert(at, x);
            assert_eq!(&f[..], &v[..]);
            assert_eq!(matches!(f, Few::Inline(..)), i < 3);
            if i == 4 {
                f.retain(|y| *y != 3);
                v.retain(|y| *y != 3);
                assert_eq!(&f[..], &v[..]);
            }
        }
        f.push(4);
        v.push(4);
        assert_eq!(&f[..], &v[..]);
        let mut g: Few<usize, 4> = Few::default();
        for x in [1, 2, 3, 4] {
            g.push(x);
        }
        g.retain(|y| y % 2 == 0);
        assert_eq!(&g[..], &[2, 4]);
        assert!(matches!(g, Few::Inline(_, 2)));
        assert!(std::mem::take(&mut g).len() == 2 && g.is_empty());
    }
}
