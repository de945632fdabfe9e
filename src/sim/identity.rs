//! multiprocessing's `_identity` (the path of spawn counters from the top-level process, which
//! names a child `Process-1:2:1`) as a chain of nodes shared with the ancestors.
//!
//! Each process used to keep its own copy of the whole path, which costs O(depth) per process
//! and so O(depth²) for a chain of processes that each fork one child and end: a scenario of a
//! few hundred bytes exhausted memory long before `max_steps` stopped it (found by fuzzing:
//! `tests/fuzz/fork-chain-named.json`). A node costs the same at any depth. A default name
//! spells out the whole path, as in Python, so it too is O(depth): it is made when it is shown
//! ([`Identity::default_name`]), never kept, so that a 30,000-deep chain of default names costs
//! its nodes (a few MB), not the 900 MB its names would (issue #13).
//!
//! A node stands for a run of equal counters (`:1:1:1` is one node, three long): a chain of
//! processes that each fork a child and end (`exit_policy: posix`, or a parent that ends
//! first) leaves each child the first of its parent's, and one node a level kept every level
//! ever made alive through the live tip: 32 bytes for each process that ever lived, 513 MB
//! at 10^7 (issue #13's audit). A run costs the same at any length.

use std::sync::Arc;

/// One link of a process's identity.
#[derive(Debug)]
pub(crate) struct Identity {
    parent: Option<Arc<Identity>>,
    /// This process's spawn counter in its parent (1 for the first child).
    n: u32,
    /// How many levels, down to this process, had the counter `n` (at least 1).
    run: u32,
}

impl Identity {
    /// The identity of the `n`-th child spawned by a process whose identity is `parent`
    /// (`None` for a top-level process).
    pub(crate) fn child(parent: Option<&Arc<Identity>>, n: u32) -> Arc<Identity> {
        match parent {
            // The parent's run goes on one level longer, in a node of the child's own: the
            // parent's node is its own and stays as it is (it is dropped with the parent).
            Some(p) if p.n == n && p.run < u32::MAX => Arc::new(Identity {
                parent: p.parent.clone(),
                n,
                run: p.run + 1,
            }),
            _ => Arc::new(Identity {
                parent: parent.cloned(),
                n,
                run: 1,
            }),
        }
    }

    /// This process's spawn counter in its parent: the order its parent created its children.
    pub(crate) fn number(&self) -> u32 {
        self.n
    }

    /// The default name, `Process-1:2:1`: the counters from the top down.
    pub(crate) fn default_name(&self) -> String {
        let mut counters = Vec::new();
        let mut node = Some(self);
        while let Some(id) = node {
            counters.extend(std::iter::repeat_n(id.n, id.run as usize));
            node = id.parent.as_deref();
        }
        counters.reverse();
        // One spelling for both backends (the fork backend names its children with it too).
        crate::program::child_name(&counters)
    }
}

impl Drop for Identity {
    /// Unlinks the chain iteratively: the default recursive drop of a chain thousands of links
    /// deep would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(node) = next {
            next = match Arc::try_unwrap(node) {
                Ok(mut id) => id.parent.take(),
                Err(_) => None,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_spell_the_path() {
        let a = Identity::child(None, 1);
        assert_eq!(a.default_name(), "Process-1");
        // An explicit name changes no identity: its children count on from its path.
        let b = Identity::child(Some(&a), 2);
        let c = Identity::child(Some(&b), 3);
        let d = Identity::child(Some(&c), 4_294_967_295);
        assert_eq!(d.default_name(), "Process-1:2:3:4294967295");
        assert_eq!(
            Identity::child(Some(&d), 1).default_name(),
            "Process-1:2:3:4294967295:1"
        );
        assert_eq!(Identity::child(Some(&b), 7).default_name(), "Process-1:2:7");
    }

    #[test]
    fn a_deep_chain_is_cheap_and_drops() {
        let mut deep = Identity::child(None, 1);
        for i in 0..1_000_000 {
            // Runs of a thousand 1s and 2s, each a node (the first 1 joins the first run).
            deep = Identity::child(Some(&deep), 1 + (i / 1000) % 2);
        }
        let mut nodes = 0;
        let mut node = Some(&*deep);
        while let Some(id) = node {
            nodes += 1;
            node = id.parent.as_deref();
        }
        assert_eq!(nodes, 1000);
        drop(deep);
    }

    /// A run of equal counters is one node, and spells out as each of its levels; a run
    /// broken by another counter goes on as a node of its own.
    #[test]
    fn runs_of_equal_counters_spell_out_in_full() {
        let mut id = Identity::child(None, 1);
        let mut want = vec![1u32];
        for n in [1, 1, 3, 3, 1, 1, 1, 2] {
            id = Identity::child(Some(&id), n);
            want.push(n);
            assert_eq!(id.default_name(), crate::program::child_name(&want));
            assert_eq!(id.number(), n);
        }
        assert_eq!(id.default_name(), "Process-1:1:1:3:3:1:1:1:2");
        // A sibling of a node in a run (its parent's run, not its own) starts its own.
        let a = Identity::child(None, 1);
        let b = Identity::child(Some(&a), 1);
        let c = Identity::child(Some(&a), 2);
        assert_eq!(
            (b.default_name().as_str(), c.default_name().as_str()),
            ("Process-1:1", "Process-1:2")
        );
    }
}
