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

use std::sync::Arc;

/// One link of a process's identity.
#[derive(Debug)]
pub(crate) struct Identity {
    parent: Option<Arc<Identity>>,
    /// This process's spawn counter in its parent (1 for the first child).
    n: u32,
}

impl Identity {
    /// The identity of the `n`-th child spawned by a process whose identity is `parent`
    /// (`None` for a top-level process).
    pub(crate) fn child(parent: Option<&Arc<Identity>>, n: u32) -> Arc<Identity> {
        Arc::new(Identity {
            parent: parent.cloned(),
            n,
        })
    }

    /// This process's spawn counter in its parent: the order its parent created its children.
    pub(crate) fn number(&self) -> u32 {
        self.n
    }

    /// The default name, `Process-1:2:1`: the counters from the top down.
    pub(crate) fn default_name(&self) -> String {
        let mut counters = vec![self.n];
        let mut node = self.parent.as_deref();
        while let Some(id) = node {
            counters.push(id.n);
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
        for _ in 0..1_000_000 {
            deep = Identity::child(Some(&deep), 1);
        }
        drop(deep);
    }
}
