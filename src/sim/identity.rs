//! multiprocessing's `_identity` (the path of spawn counters from the top-level process, which
//! names a child `Process-1:2:1`) as a chain of nodes shared with the ancestors.
//!
//! Each process used to keep its own copy of the whole path, which costs O(depth) per process
//! and so O(depth²) for a chain of processes that each fork one child and end: a scenario of a
//! few hundred bytes exhausted memory long before `max_steps` stopped it (found by fuzzing:
//! `tests/fuzz/fork-chain-named.json`). A node costs the same at any depth. A default name
//! still spells out the whole path, as in Python, but it is built from the nearest ancestor's
//! default name rather than by walking the chain to the top, and it is the same string as the
//! process's name, so an unnamed chain costs no more than its names.

use std::sync::Arc;

/// One link of a process's identity.
#[derive(Debug)]
pub(crate) struct Identity {
    parent: Option<Arc<Identity>>,
    /// This process's spawn counter in its parent (1 for the first child).
    n: u32,
    /// The process's name when it is the default one, `Process-` and this node's path.
    default_name: Option<Arc<str>>,
}

const PREFIX: &str = "Process-";

impl Identity {
    /// The identity and the name of the `n`-th child spawned by a process whose identity is
    /// `parent` (`None` for a top-level process): `explicit` when given, else the default.
    pub(crate) fn child(
        parent: Option<&Arc<Identity>>,
        n: u32,
        explicit: Option<&Arc<str>>,
    ) -> (Arc<Identity>, Arc<str>) {
        let (name, default_name): (Arc<str>, Option<Arc<str>>) = match explicit {
            Some(name) => (Arc::clone(name), None),
            None => {
                let name: Arc<str> = default_name(parent, n).into();
                (Arc::clone(&name), Some(name))
            }
        };
        let id = Identity {
            parent: parent.cloned(),
            n,
            default_name,
        };
        (Arc::new(id), name)
    }
}

/// `Process-1:2:1` for the `n`-th child of `parent`.
fn default_name(parent: Option<&Arc<Identity>>, n: u32) -> String {
    // Counters up to the nearest ancestor with a default name, which spells out its own path.
    let mut counters = vec![n];
    let mut base = None;
    let mut node = parent.map(|p| &**p);
    while let Some(id) = node {
        if let Some(name) = &id.default_name {
            base = Some(name);
            break;
        }
        counters.push(id.n);
        node = id.parent.as_deref();
    }
    let mut out =
        String::with_capacity(base.map_or(PREFIX.len(), |b| b.len()) + 11 * counters.len());
    out.push_str(base.map_or(PREFIX, |b| b));
    let mut colon = base.is_some();
    for &c in counters.iter().rev() {
        if colon {
            out.push(':');
        }
        colon = true;
        out.push_str(&c.to_string());
    }
    out
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
        let named: Arc<str> = Arc::from("worker");
        let (a, name) = Identity::child(None, 1, None);
        assert_eq!(&*name, "Process-1");
        let (b, name) = Identity::child(Some(&a), 2, Some(&named));
        assert_eq!(&*name, "worker");
        let (c, name) = Identity::child(Some(&b), 3, Some(&named));
        assert_eq!(&*name, "worker");
        let (d, name) = Identity::child(Some(&c), 4_294_967_295, None);
        assert_eq!(&*name, "Process-1:2:3:4294967295");
        assert_eq!(
            &*Identity::child(Some(&d), 1, None).1,
            "Process-1:2:3:4294967295:1"
        );
        assert_eq!(&*Identity::child(Some(&b), 7, None).1, "Process-1:2:7");
    }

    #[test]
    fn a_deep_chain_is_cheap_and_drops() {
        let named: Arc<str> = Arc::from("n");
        let (mut deep, _) = Identity::child(None, 1, None);
        for _ in 0..1_000_000 {
            deep = Identity::child(Some(&deep), 1, Some(&named)).0;
        }
        drop(deep);
    }
}
